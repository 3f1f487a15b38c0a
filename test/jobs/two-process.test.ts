import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { createJob } from '../../src/jobs/job.service.js';
import { taskRegistry } from '../../src/jobs/tasks/registry.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ENGINE } from '../support/engine.js';

let t: TestContext;

/**
 * A scheduler process that runs until `until` holds (see scheduler-child.ts), never for a fixed time.
 * Its job lease defaults to one no loaded machine's stall can outlast: with 1.5 s, the other process
 * could reap a live 0.7 s run that a pause had stretched, and start the job again beside it.
 */
function child(owner: string, until: string, slowMs: number, leaseMs = 600_000): ChildProcess {
  const args = [t.url!, owner, until, String(slowMs), String(leaseMs)];
  return spawn(process.execPath, ['--import', 'tsx', 'test/jobs/scheduler-child.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}
const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

async function job(label: string, cron: string): Promise<number> {
  const registry = taskRegistry([
    {
      id: 'billing-run',
      label: 'Billing Run',
      parameters: {},
      secretNames: [],
      run: async () => ({ aborted: false, changes: [], message: '' }),
    },
  ]);
  const created = await inTransaction(t.db, (tx) =>
    createJob(tx, t.admin, { registry, box: t.ctx.secrets }, { label, task: 'billing-run', cron }),
  );
  return created.id;
}

// PGlite serves one process; several schedulers need a PostgreSQL server (architecture.md).
describe.skipIf(TEST_ENGINE !== 'postgres')('job scheduling with two processes on one PostgreSQL', () => {
  beforeAll(async () => {
    t = await openTestContext();
  });
  afterAll(async () => {
    await t.close();
  });

  // Each test starts Node processes with tsx: on a loaded 2-core machine that alone took over the
  // default 60 s. The timeouts only stop a hung test; every wait inside is on a condition.
  it('fires each occurrence once and never runs the job twice at once', { timeout: 300_000 }, async () => {
    const jobId = await job('every second', '* * * * * *');
    const a = child('proc-a', 'runs:3', 700);
    const b = child('proc-b', 'runs:3', 700);
    await Promise.all([exited(a), exited(b)]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const runs = await t.db.selectFrom('job_runs').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
    const scheduled = runs.filter((r) => r.scheduled_for).map((r) => r.scheduled_for!.toISOString());
    expect(new Set(scheduled).size).toBe(scheduled.length);
    const executed = runs.filter((r) => r.started_at).sort((x, y) => x.started_at!.getTime() - y.started_at!.getTime());
    expect(executed.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < executed.length; i++)
      expect(executed[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(executed[i - 1]!.finished_at!.getTime());
    expect(executed.every((r) => r.status === 'Succeeded')).toBe(true);
    // Off, so the next test's processes run only its own job.
    await t.db.updateTable('jobs').set({ enabled: false }).where('id', '=', jobId).execute();
  });

  it('marks the run of a killed process as failed from the other process', { timeout: 300_000 }, async () => {
    const jobId = await job('long', '* * * * * *');
    const a = child('victim', 'forever', 600_000);
    await expect
      .poll(
        async () =>
          (await t.db.selectFrom('job_runs').select('status').where('job_id', '=', jobId).where('status', '=', 'Running').execute()).length,
        { timeout: 240_000, interval: 100 },
      )
      .toBe(1);
    a.kill('SIGKILL');
    await exited(a);
    await t.db.updateTable('jobs').set({ enabled: false }).where('id', '=', jobId).execute();
    // The survivor judges the victim's heartbeat by its own lease: short, so it reaps the dead run soon.
    const b = child('survivor', 'reaped:victim', 10, 1_500);
    await exited(b);
    expect(b.exitCode).toBe(0);
    const dead = await t.db
      .selectFrom('job_runs')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('owner', '=', 'victim')
      .where('started_at', 'is not', null)
      .orderBy('id')
      .execute();
    // On a loaded machine the victim may have reaped a run of its own whose heartbeat lagged and
    // started another; every one it started must end Failed, the last one by the survivor.
    expect(dead.length).toBeGreaterThan(0);
    expect(dead.map((r) => r.status)).toEqual(dead.map(() => 'Failed'));
    const log = await t.db
      .selectFrom('job_run_logs')
      .selectAll()
      .where('run_id', '=', dead.at(-1)!.id)
      .where('code', '=', 'JB03')
      .execute();
    expect(log[0]!.message).toMatch(/victim/);
  });
});
