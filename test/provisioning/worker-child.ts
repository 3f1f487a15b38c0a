/**
 * A worker process for crash tests: runs the provisioning engine on the configured database
 * (DATABASE_URL, or the embedded one in TENANTRY_DATA_DIR) and exits once no request is running.
 */
import { loadConfig } from '../../src/core/config.js';
import { openRuntime } from '../../src/core/runtime.js';
import { startProvisioningEngine } from '../../src/provisioning/engine.js';

const { ctx } = await openRuntime(loadConfig(), { quiet: true });
const engine = await startProvisioningEngine(ctx);
console.log('ready');
for (;;) {
  await new Promise((r) => setTimeout(r, 200));
  const open = await ctx.db.selectFrom('provisioning_requests').select('id').where('status', 'in', ['Requested', 'InProgress']).limit(1).executeTakeFirst();
  if (!open && process.env.EXIT_WHEN_IDLE) break;
}
await engine.stop();
await ctx.database.close();
process.exit(0);
