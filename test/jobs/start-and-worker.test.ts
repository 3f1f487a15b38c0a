import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { createJob } from '../../src/jobs/job.service.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ENGINE } from '../support/engine.js';

const BIN = path.resolve('bin/tenantry.js');
let t: TestContext;
// One secrets key for every process on the test database: the first start records its fingerprint
// and refuses any other key after that.
const key = randomBytes(32).toString('hex');
const started: ChildProcess[] = [];
const dirs: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** `tenantry <args>` against the test database, with its own data dir and a fast scheduler pass. */
function tenantry(args: string[], extra: NodeJS.ProcessEnv, key: string): { child: ChildProcess; output: () => string } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-sched-'));
  dirs.push(dataDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: t.url,
    TENANTRY_DATA_DIR: dataDir,
    TENANTRY_SECRET_KEY: key,
    TENANTRY_JOBS_POLL_MS: '100',
    TENANTRY_LOG_LEVEL: 'warn',
    ...extra,
  };
  delete env.TENANTRY_ADMIN_PASSWORD;
  const child = spawn(process.execPath, [BIN, ...args], { env });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

const stop = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });

// issue 7 §2 with the real commands: `tenantry start` runs the scheduler in-process and `tenantry worker`
// (provisioning-commands.ts) runs another; PGlite serves one process, so this needs PostgreSQL.
describe.skipIf(TEST_ENGINE !== 'postgres')('tenantry start and tenantry worker on one PostgreSQL', () => {
  beforeAll(async () => {
    t = await openTestContext();
  });
  afterAll(async () => {
    for (const p of started) p.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await t.close();
  });

  it('fire each occurrence of a Billing Run job once and never run it twice at once', async () => {
    // Every-second schedules keep this test short; the interval floor is tested in test/jobs/cron-minimum.test.ts.
    const env = { ...(await jobsEnv(t.ctx)), minIntervalSeconds: undefined };
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, { label: 'billing every second', task: 'billing-run', cron: '* * * * * *' }),
    );
    const server = tenantry(['start'], { PORT: String(await freePort()), HOST: '127.0.0.1' }, key);
    const worker = tenantry(['worker'], {}, key);
    const owners = [server, worker].map((p) => `${os.hostname()}:${p.child.pid}`);
    const executedBy = async () =>
      new Set(
        (await t.db.selectFrom('job_runs').select('owner').where('job_id', '=', job.id).where('started_at', 'is not', null).execute()).map(
          (r) => r.owner,
        ),
      );
    // Both processes schedule and execute: each runs some of the occurrences.
    try {
      await expect
        .poll(
          async () => {
            const seen = await executedBy();
            return owners.filter((o) => seen.has(o)).length;
          },
          { timeout: 45_000, interval: 250 },
        )
        .toBe(2);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nstart:\n${server.output()}\nworker:\n${worker.output()}`, { cause: e });
    }
    await Promise.all([stop(server.child), stop(worker.child)]);
    expect([server.child.exitCode, worker.child.exitCode]).toEqual([0, 0]);

    const runs = await t.db.selectFrom('job_runs').selectAll().where('job_id', '=', job.id).orderBy('id').execute();
    const scheduled = runs.filter((r) => r.scheduled_for).map((r) => r.scheduled_for!.toISOString());
    expect(new Set(scheduled).size).toBe(scheduled.length);
    const executed = runs.filter((r) => r.started_at).sort((x, y) => x.started_at!.getTime() - y.started_at!.getTime());
    for (let i = 1; i < executed.length; i++)
      expect(executed[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(executed[i - 1]!.finished_at!.getTime());
    expect(executed.filter((r) => r.status !== 'Succeeded').map((r) => [r.id, r.status, r.message])).toEqual([]);
    // Stopping with SIGTERM lets each process finish its run: none is left Running (a Queued one waits for the next process).
    expect(runs.filter((r) => r.status === 'Running')).toEqual([]);
    await t.db.updateTable('jobs').set({ enabled: false }).where('id', '=', job.id).execute();
  });

  it('report occurrences missed while no process ran (JB02) when a worker starts again', async () => {
    // Every-second schedules keep this test short; the interval floor is tested in test/jobs/cron-minimum.test.ts.
    const env = { ...(await jobsEnv(t.ctx)), minIntervalSeconds: undefined };
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, { label: 'billing every minute', task: 'billing-run', cron: '* * * * *' }),
    );
    // Every process was down for ten minutes: the stored next fire time lies ten minutes back.
    await t.db
      .updateTable('jobs')
      .set({ next_run_at: new Date(Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000) })
      .where('id', '=', job.id)
      .execute();
    const worker = tenantry(['worker'], {}, key);
    const missed = () => t.db.selectFrom('job_runs').selectAll().where('job_id', '=', job.id).where('status', '=', 'Missed').execute();
    await expect.poll(async () => (await missed()).length, { timeout: 45_000, interval: 250 }).toBeGreaterThanOrEqual(8);
    await stop(worker.child);
    const log = await t.db
      .selectFrom('job_run_logs')
      .selectAll()
      .where('run_id', '=', (await missed())[0]!.id)
      .execute();
    expect(log.map((l) => [l.code, l.level])).toEqual([['JB02', 'Warning']]);
    expect(log[0]!.message).toMatch(/^The run scheduled for \S+ was missed: no Tenantry process was running the scheduler then\.$/);
  });
});
