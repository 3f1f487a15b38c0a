/**
 * A worker process for crash tests and the provisioning benchmark: runs the provisioning engine on
 * the configured database (DATABASE_URL, or the embedded one in TENANTRY_DATA_DIR) and exits once
 * no request is running. Started with an IPC channel (the benchmark), it answers any message with
 * the number of database round trips (pg client queries, every pool) it has made so far.
 */
import pg from 'pg';
import { loadConfig } from '../../src/core/config.js';
import { openRuntime } from '../../src/core/runtime.js';
import { startProvisioningEngine } from '../../src/provisioning/engine.js';

if (process.send) {
  let queries = 0;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    queries++;
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
  process.on('message', () => process.send!({ queries }));
}

const { ctx } = await openRuntime(loadConfig(), { quiet: true });
const engine = await startProvisioningEngine(ctx);
console.log('ready');
// Without EXIT_WHEN_IDLE it runs until it is signalled (and makes no queries of its own).
if (!process.env.EXIT_WHEN_IDLE) await new Promise(() => {});
for (;;) {
  await new Promise((r) => setTimeout(r, 200));
  const open = await ctx.db
    .selectFrom('provisioning_requests')
    .select('id')
    .where('status', 'in', ['Requested', 'InProgress'])
    .limit(1)
    .executeTakeFirst();
  if (!open) break;
}
await engine.stop();
await ctx.database.close();
process.exit(0);
