import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { createJob } from '../../src/jobs/job.service.js';
import { taskRegistry } from '../../src/jobs/tasks/registry.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ENGINE } from '../support/engine.js';

let t: TestContext;

function child(owner: string, durationMs: number, slowMs: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/jobs/scheduler-child.ts', t.url!, owner, String(durationMs), String(slowMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
}
const exited = (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

async function job(label: string, cron: string): Promise<number> {
  const registry = taskRegistry([{ id: 'billing-run', label: 'Billing Run', parameters: {}, secretNames: [], run: async () => ({ aborted: false, changes: [], message: '' }) }]);
  const created = await inTransaction(t.db, (tx) => createJob(tx, t.admin, { registry, box: t.ctx.secrets }, { label, task: 'billing-run', cron }));
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

  it('fires each occurrence once and never runs the job twice at once', async () => {
    const jobId = await job('every second', '* * * * * *');
    const a = child('proc-a', 5_000, 700);
    const b = child('proc-b', 5_000, 700);
    await Promise.all([exited(a), exited(b)]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const runs = await t.db.selectFrom('job_runs').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
    const scheduled = runs.filter((r) => r.scheduled_for).map((r) => r.scheduled_for!.toISOString());
    expect(new Set(scheduled).size).toBe(scheduled.length);
    const executed = runs.filter((r) => r.started_at).sort((x, y) => x.started_at!.getTime() - y.started_at!.getTime());
    expect(executed.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < executed.length; i++) expect(executed[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(executed[i - 1]!.finished_at!.getTime());
    expect(executed.every((r) => r.status === 'Succeeded')).toBe(true);
  });

  it('marks the run of a killed process as failed from the other process', async () => {
    const jobId = await job('long', '* * * * * *');
    const a = child('victim', 10_000, 60_000);
    await expect.poll(async () => (await t.db.selectFrom('job_runs').select('status').where('job_id', '=', jobId).where('status', '=', 'Running').execute()).length, { timeout: 10_000, interval: 100 }).toBe(1);
    a.kill('SIGKILL');
    await exited(a);
    await t.db.updateTable('jobs').set({ enabled: false }).where('id', '=', jobId).execute();
    const b = child('survivor', 3_000, 10);
    await exited(b);
    const dead = await t.db.selectFrom('job_runs').selectAll().where('job_id', '=', jobId).where('owner', '=', 'victim').where('started_at', 'is not', null).execute();
    expect(dead.map((r) => r.status)).toEqual(['Failed']);
    const log = await t.db.selectFrom('job_run_logs').selectAll().where('run_id', '=', dead[0]!.id).where('code', '=', 'JB03').execute();
    expect(log[0]!.message).toMatch(/victim/);
  });
});
