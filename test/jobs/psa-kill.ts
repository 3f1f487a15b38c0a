import { afterAll, beforeAll, expect } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { loadDemo } from '../../src/demo/demo.js';
import { startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { createJob, type JobInput, type JobsEnv } from '../../src/jobs/job.service.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import type { RecordedRequest, SimulatedPsa } from '../../src/integrations/psa/shared/sim-server.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { exited, until, WorkerProcesses } from './worker-processes.js';

/**
 * The shared steps of the kill -9 tests of PSA syncs (Autotask, ConnectWise) on PostgreSQL: a
 * database with the demo billed, the PSA simulators (in the test process, over HTTP), real
 * `tenantry start` / `tenantry worker` processes, and the kill itself. The simulator holds the
 * sync's first write unanswered, so the victim dies with a write in flight on any machine; every
 * wait is on a condition.
 */
export interface PsaKill {
  t: TestContext;
  demo: PsaDemo;
  processes: WorkerProcesses;
  env: JobsEnv;
  runner: JobRunner;
}

/** Registers the hooks that open (beforeAll) and close (afterAll) a fixture; call inside a describe. */
export function usePsaKill(): () => PsaKill {
  let fixture: PsaKill | undefined;
  let t: TestContext | undefined;
  let demo: PsaDemo | undefined;
  const processes = new WorkerProcesses(() => t!);
  beforeAll(async () => {
    t = await openTestContext();
    await loadDemo(t.ctx, t.admin);
    await runBilling(t.db, t.admin, {});
    demo = await startPsaDemo();
    const env = await jobsEnv(t.ctx);
    fixture = { t, demo, processes, env, runner: new JobRunner(t.ctx, env) };
  });
  afterAll(async () => {
    processes.killAll();
    await demo?.stop();
    await t?.close();
  });
  return () => fixture!;
}

/** A sync job that only runs when the test queues it. */
export async function syncJob(f: PsaKill, job: JobInput): Promise<number> {
  return (await inTransaction(f.t.db, (tx) => createJob(tx, f.t.admin, f.env, { ...job, cron: '0 0 1 1 *', enabled: true }))).id;
}

/** Queues a run of the job and returns its row once it has ended. */
export async function runToEnd(f: PsaKill, jobId: number) {
  const { id } = await f.runner.enqueue(f.t.admin, jobId);
  return until(`job run ${id} to finish`, async () => {
    const r = await f.t.db.selectFrom('job_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return !['Queued', 'Running'].includes(r.status) && r;
  });
}

/**
 * Queues a run of the job in a `tenantry <victim>` process, kills it with kill -9 while `psa` holds
 * a write unanswered (the caller injected the hang faults), clears the faults, and starts a
 * surviving `tenantry worker`; returns once that has marked the killed run Failed. Asserts that no
 * write was applied before the kill and that the run has exactly one JB03 entry saying why it failed.
 */
export async function killMidSync(
  f: PsaKill,
  jobId: number,
  victim: 'worker' | 'start',
  psa: SimulatedPsa,
  isWrite: (r: RecordedRequest) => boolean,
): Promise<void> {
  const killed = await f.runner.enqueue(f.t.admin, jobId);
  const child = f.processes.start('victim', victim);
  await until('the sync to send its first write', async () => psa.requests.some((r) => r.faulted));
  const appliedBeforeKill = psa.requests.filter((r) => isWrite(r) && !r.faulted).length;
  child.kill('SIGKILL');
  await exited(child);
  expect(appliedBeforeKill).toBe(0);
  psa.clearFaults();

  f.processes.start('survivor');
  await until(
    'the killed run to be marked Failed',
    async () =>
      (await f.t.db.selectFrom('job_runs').select('status').where('id', '=', killed.id).executeTakeFirstOrThrow()).status === 'Failed',
  );
  const jb03 = await f.t.db.selectFrom('job_run_logs').select('code').where('run_id', '=', killed.id).where('code', '=', 'JB03').execute();
  expect(jb03).toHaveLength(1);
}
