/**
 * A scheduler process for the two-process tests: ticks a JobRunner against the PostgreSQL
 * database in argv[2] as owner argv[3] until the condition in argv[4] holds: `runs:N` (N runs have
 * succeeded), `reaped:OWNER` (no run of OWNER is still Running: this process marked the dead ones
 * Failed) or `forever` (until killed). It ticks at least once before it checks. Tests
 * wait on these conditions, not on durations, so a loaded machine only makes them slower. Its
 * "billing-run" task sleeps for argv[5] ms, so runs overlap in time unless the database prevents it.
 * argv[6] is the job lease in ms: short where a test needs a dead process's run reaped, long
 * enough elsewhere that no loaded machine stalls a live run past it.
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

const [url, owner, until, slowMs, leaseMs] = process.argv.slice(2);
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
const runner = new JobRunner(
  ctx,
  { registry, box: ctx.secrets },
  {
    owner,
    heartbeatMs: 200,
    leaseMs: Number(leaseMs),
    missedAfterMs: 30_000,
  },
);
process.stdout.write('ready\n');
/** Whether the stop condition holds (a safety deadline turns a hang into a failure with a message). */
async function done(): Promise<boolean> {
  const [kind, arg] = until!.split(':');
  if (kind === 'runs') {
    const n = await database.db
      .selectFrom('job_runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'Succeeded')
      .executeTakeFirstOrThrow();
    return Number(n.n) >= Number(arg);
  }
  if (kind === 'reaped') {
    return (
      (await database.db
        .selectFrom('job_runs')
        .select('id')
        .where('owner', '=', arg!)
        .where('status', '=', 'Running')
        .executeTakeFirst()) === undefined
    );
  }
  return false;
}

const deadline = Date.now() + 240_000;
do {
  if (Date.now() > deadline) {
    process.stderr.write(`scheduler-child ${owner}: condition ${until} not reached in 240 s\n`);
    process.exit(2);
  }
  await runner.tick();
  await sleep(50);
} while (!(await done()));
await runner.drain();
await database.close();
