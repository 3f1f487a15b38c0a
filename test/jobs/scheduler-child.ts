/**
 * A scheduler process for the two-process tests: ticks a JobRunner against the PostgreSQL
 * database in argv[2] for argv[4] ms as owner argv[3]. Its "billing-run" task sleeps for
 * SLOW_MS, so runs overlap in time unless the database prevents it.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../src/core/db/database.js';
import { SecretBox } from '../../src/core/crypto.js';
import { createLogger } from '../../src/core/logger.js';
import { loadConfig } from '../../src/core/config.js';
import { getProvider } from '../../src/tenancy/customer.service.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { taskRegistry } from '../../src/jobs/tasks/registry.js';

const [url, owner, durationMs, slowMs] = process.argv.slice(2);
const database = await openDatabase({ url: url! });
const ctx = {
  config: loadConfig({}),
  database,
  db: database.db,
  secrets: SecretBox.fromKey(randomBytes(32)),
  logger: createLogger('silent'),
  provider: (await getProvider(database.db))!,
};
const registry = taskRegistry([
  {
    id: 'billing-run',
    label: 'Billing Run',
    parameters: {},
    secretNames: [],
    async run(input) {
      input.log.write('T01', 'Info', `ran in ${owner}`);
      await sleep(Number(slowMs));
      return { aborted: false, changes: [], message: owner! };
    },
  },
]);
const runner = new JobRunner(ctx, { registry, box: ctx.secrets }, { owner, heartbeatMs: 200, leaseMs: 1_500, missedAfterMs: 30_000 });
process.stdout.write('ready\n');
const until = Date.now() + Number(durationMs);
while (Date.now() < until) {
  await runner.tick();
  await sleep(50);
}
await runner.drain();
await database.close();
