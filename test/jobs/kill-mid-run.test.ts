import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, withDefaultUser } from '../../src/core/db/database.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { loadDemo } from '../../src/demo/demo.js';
import { createJob } from '../../src/jobs/job.service.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ENGINE } from '../support/engine.js';
import { exited, until, WorkerProcesses } from './worker-processes.js';

/**
 * kill -9 of the process running the billing run, on PostgreSQL: a worker (`tenantry worker`), and
 * the server (`tenantry start`, which runs the same job workers in-process). The run is held inside
 * its transaction, after its bill items are written and before it commits, by a statement trigger
 * that waits on an advisory lock this test holds: the kill happens at exactly that point, however
 * loaded the machine is. Every wait is on a condition.
 */
const PAUSE_LOCK = 4242;
let t: TestContext;
let holder: pg.Client;
const workers = new WorkerProcesses(() => t);

const snapshot = async () => JSON.stringify(await sql`select * from bill_items order by id`.execute(t.db).then((r) => r.rows));
const count = async (table: 'bill_items' | 'service_changes' | 'billing_runs') =>
  Number(
    (
      await t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const runningBillingRuns = () => t.db.selectFrom('billing_runs').select('id').where('status', '=', 'running').execute();

describe.skipIf(TEST_ENGINE !== 'postgres')('kill -9 mid billing run, on one PostgreSQL', () => {
  beforeAll(async () => {
    t = await openTestContext();
    await loadDemo(t.ctx, t.admin);
    await runBilling(t.db, t.admin, {});
    holder = new pg.Client({ connectionString: withDefaultUser(t.url!) });
    await holder.connect();
  });
  afterAll(async () => {
    workers.killAll();
    await holder?.end();
    await t?.close();
  });

  for (const victimCommand of ['worker', 'start'] as const) {
    it(
      `killing the ${victimCommand === 'start' ? 'server (tenantry start)' : 'worker (tenantry worker)'} rolls the run back whole, marks its job run and billing run Failed, and the next run bills each item once`,
      { timeout: 300_000 },
      async () => {
        const env = await jobsEnv(t.ctx);
        const job = await inTransaction(t.db, (tx) =>
          createJob(tx, t.admin, env, { label: `Daily billing (kill ${victimCommand})`, task: 'billing-run', cron: '0 0 1 1 *' }),
        );
        // The periods' items are gone (as after a period reconfiguration), so the killed run has them all to write.
        const billed = await count('bill_items');
        expect(billed).toBeGreaterThan(0);
        await sql`delete from bill_items`.execute(t.db);
        const before = await snapshot();
        const ledgerRows = await count('service_changes');
        expect(await runningBillingRuns()).toEqual([]);

        await sql
          .raw(
            `
      create function test_pause_billing() returns trigger language plpgsql as $$
      begin perform pg_advisory_xact_lock(${PAUSE_LOCK}); return null; end $$;
      create trigger test_pause_billing after insert or update or delete on bill_items for each statement execute function test_pause_billing();
    `,
          )
          .execute(t.db);
        await holder.query('select pg_advisory_lock($1)', [PAUSE_LOCK]);

        const runner = new JobRunner(t.ctx, env);
        const killed = await runner.enqueue(t.admin, job.id);
        const victim = workers.start('victim', victimCommand);
        const waiting = await until('the billing run to write its items and wait before committing', async () => {
          const r = await holder.query(`select pid from pg_locks where locktype = 'advisory' and objid = $1 and not granted`, [PAUSE_LOCK]);
          return r.rows[0]?.pid as number | undefined;
        });
        victim.kill('SIGKILL');
        await exited(victim);
        await holder.query('select pg_advisory_unlock($1)', [PAUSE_LOCK]);
        // The orphaned session finds its client gone and ends; nothing it wrote was committed.
        await until(
          "the killed process's session to end",
          async () => (await holder.query('select 1 from pg_stat_activity where pid = $1', [waiting])).rowCount === 0,
        );
        await sql.raw('drop trigger test_pause_billing on bill_items; drop function test_pause_billing();').execute(t.db);
        expect(await snapshot()).toBe(before);
        // Its record was committed before the work, so consoles can follow it: it still says running.
        const abandoned = await runningBillingRuns();
        expect(abandoned).toHaveLength(1);

        // A worker marks the dead job run Failed (JB03) once its lease has run out.
        workers.start('survivor');
        const failed = await until('the killed run to be marked Failed', async () => {
          const r = await t.db.selectFrom('job_runs').selectAll().where('id', '=', killed.id).executeTakeFirstOrThrow();
          return r.status === 'Failed' && r;
        });
        const jb03 = await t.db
          .selectFrom('job_run_logs')
          .select('message')
          .where('run_id', '=', failed.id)
          .where('code', '=', 'JB03')
          .execute();
        expect(jb03).toHaveLength(1);

        // The next run (by the survivor) marks the abandoned billing run failed and bills every item once.
        const next = await runner.enqueue(t.admin, job.id);
        const done = await until('the next run to finish', async () => {
          const r = await t.db.selectFrom('job_runs').selectAll().where('id', '=', next.id).executeTakeFirstOrThrow();
          return ['Succeeded', 'Failed', 'CompletedWithErrors', 'CompletedWithWarnings'].includes(r.status) && r;
        });
        expect(done.status).toBe('Succeeded');
        const record = await t.db.selectFrom('billing_runs').selectAll().where('id', '=', abandoned[0]!.id).executeTakeFirstOrThrow();
        expect(record).toMatchObject({ status: 'failed', items: null });
        expect(record.error).toMatch(/stopped before it finished.*rolled back whole/);
        expect(await runningBillingRuns()).toEqual([]);
        const after = await snapshot();
        expect(await count('bill_items')).toBe(billed);
        const duplicates = await sql<{ n: number }>`
      select count(*)::int as n from (select 1 from bill_items group by bill_period_id, service_change_id, bill_config_rule_id having count(*) > 1) d`.execute(
          t.db,
        );
        expect(duplicates.rows[0]!.n).toBe(0);
        const again = await runBilling(t.db, t.admin, {});
        expect(again.every((r) => r.added === 0 && r.removed === 0)).toBe(true);
        expect(await snapshot()).toBe(after);
        expect(await count('service_changes')).toBe(ledgerRows);
        await workers.stopAll();
      },
    );
  }
});
