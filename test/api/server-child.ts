/**
 * A second Tenantry process for multi-process tests: serves HTTP on the configured database
 * (DATABASE_URL) and prints its address; runs until killed.
 */
import { loadConfig } from '../../src/core/config.js';
import { openRuntime } from '../../src/core/runtime.js';
import { buildServer } from '../../src/api/server.js';

const { ctx } = await openRuntime(loadConfig(), { quiet: true });
const app = await buildServer(ctx);
console.log(await app.listen({ host: '127.0.0.1', port: 0 }));
