import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { loadDemo } from '../../src/demo/demo.js';
import { demoJobs, demoQuantities, startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { createJob } from '../../src/jobs/job.service.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { getRun, runLogs } from '../../src/jobs/run.service.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { editPsaByHand, jobsApi } from '../support/psa.js';
import { TEST_ADMIN } from '../support/engine.js';

/*
 * Issue 11 §7: RequireApproval makes a PSA run store its diff and wait; approving (console endpoint
 * or `tenantry jobs approve`, both JobRunner.approve) writes exactly that diff if nothing moved
 * since, otherwise the new diff waits; rejecting ends the run. Both PSAs, over HTTP.
 */
let t: TestContext;
let demo: PsaDemo;
let api: FastifyInstance;
const AUTH = `Basic ${Buffer.from(`${TEST_ADMIN.user}:${TEST_ADMIN.password}`).toString('base64')}`;

beforeAll(async () => {
  t = await openTestContext();
  await loadDemo(t.ctx, t.admin);
  await runBilling(t.db, t.admin, {});
  demo = await startPsaDemo();
  api = await jobsApi(t.ctx);
});
afterAll(async () => {
  await api.close();
  await demo.stop();
  await t.close();
});

const post = async (url: string) => {
  const res = await api.inject({ method: 'POST', url, headers: { authorization: AUTH } });
  return { status: res.statusCode, body: res.json() };
};

describe.each(['autotask', 'connectwise'] as const)('RequireApproval: %s', (psa) => {
  let runner: JobRunner;
  let jobId: number;

  beforeAll(async () => {
    const env = await jobsEnv(t.ctx);
    runner = new JobRunner(t.ctx, env);
    const input = demoJobs(demo)[psa === 'autotask' ? 0 : 1]!;
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, {
        ...input,
        label: `${input.label} (approval)`,
        parameters: { ...(input.parameters as object), RequireApproval: 'True' },
      }),
    );
    jobId = job.id;
  });

  it('a run computes and stores the diff, writes nothing and waits AwaitingApproval', async () => {
    const before = demoQuantities(demo);
    const run = await runner.runNow(t.admin, jobId);
    expect(run.status).toBe('AwaitingApproval');
    expect(run.finished_at).toBeNull();
    expect((await getRun(t.db, t.admin, run.id)).changes.length).toBeGreaterThan(0);
    expect(demoQuantities(demo)).toEqual(before);
  });

  it('a change in the PSA since: approving writes nothing and the new diff waits; rejecting ends the run', async () => {
    const run = await runner.runNow(t.admin, jobId);
    const approvedDiff = (await getRun(t.db, t.admin, run.id)).changes;
    editPsaByHand(demo, psa);
    const edited = demoQuantities(demo);
    const again = await post(`/api/console/jobs/runs/${run.id}/approve`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('AwaitingApproval');
    expect(again.body.changes).not.toEqual(approvedDiff);
    expect(demoQuantities(demo)).toEqual(edited);
    expect((await runLogs(t.db, t.admin, run.id, { search: 'JB05' })).map((e) => e.level)).toEqual(['Warning']);

    const rejected = await post(`/api/console/jobs/runs/${run.id}/reject`);
    expect(rejected.body.status).toBe('Rejected');
    expect(demoQuantities(demo)).toEqual(edited);
    expect((await post(`/api/console/jobs/runs/${run.id}/approve`)).status).toBe(409);
  });

  it('approving an unchanged diff writes exactly it; the next run has nothing to approve', async () => {
    const run = await runner.runNow(t.admin, jobId);
    const approvedDiff = (await getRun(t.db, t.admin, run.id)).changes;
    const approved = await post(`/api/console/jobs/runs/${run.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.status).toMatch(/^(Succeeded|CompletedWith)/);
    expect(approved.body.changes).toEqual(approvedDiff);
    for (const c of approvedDiff) {
      const row = demoQuantities(demo).find((r) => r.billingId === c.billingId && r.sku === c.sku)!;
      expect(row[psa]).toBe(c.to);
    }
    expect((await runLogs(t.db, t.admin, run.id, { search: 'JB06' })).length).toBe(1);
    const next = await runner.runNow(t.admin, jobId);
    expect(next.status).toMatch(/^(Succeeded|CompletedWith)/);
    expect(next.changed_count).toBe(0);
  });

  it('refuses an unknown run and callers without Manage Jobs', async () => {
    expect((await post('/api/console/jobs/runs/999999/approve')).status).toBe(404);
    const anon = await api.inject({ method: 'POST', url: '/api/console/jobs/runs/1/approve' });
    expect(anon.statusCode).toBe(401);
  });
});
