import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACT } from '../../src/core/logger.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { loadDemo } from '../../src/demo/demo.js';
import { demoJobs, demoQuantities, startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ADMIN } from '../support/engine.js';
import { jobsApi } from '../support/psa.js';

let t: TestContext;
let demo: PsaDemo;
let api: FastifyInstance;
let logText = '';
const responses: string[] = [];
const AUTH = `Basic ${Buffer.from(`${TEST_ADMIN.user}:${TEST_ADMIN.password}`).toString('base64')}`;
const SECRET_VALUES = ['sim-secret', 'SIMINTEGRATIONCODE', 'simPrivateKey', 'simPublicKey'];

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await api.inject({
    method,
    url,
    headers: { authorization: AUTH },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  responses.push(res.body);
  return {
    status: res.statusCode,
    body: res.headers['content-type']?.toString().includes('json') ? res.json() : res.body,
    headers: res.headers,
  };
}

beforeAll(async () => {
  t = await openTestContext();
  // Capture everything the process logs, at the most verbose level, to prove secrets never reach it.
  t.ctx.logger = pino(
    { level: 'trace', redact: { paths: REDACT, censor: '[redacted]' } },
    new Writable({
      write(chunk, _e, cb) {
        logText += String(chunk);
        cb();
      },
    }),
  );
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

const qty = (billingId: string, sku: string) => demoQuantities(demo).find((r) => r.billingId === billingId && r.sku === sku);

describe('PSA sync end to end: console API → job run → simulators over HTTP', () => {
  let atJob: number;
  let cwJob: number;

  it('creates the two PSA jobs; the responses never show the secrets', async () => {
    const [at, cw] = demoJobs(demo);
    const a = await call('POST', '/api/console/jobs', { ...at, enabled: true });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({
      task: 'autotask-psa',
      taskLabel: 'Autotask PSA',
      secretsSet: ['UserName', 'Secret', 'IntegrationCode'],
      enabled: true,
    });
    expect(a.body.parameters).toMatchObject({ ProRatedTransactions: 'False', CustomersFilter: '' });
    expect(new Date(a.body.nextRunAt).getTime()).toBeGreaterThan(Date.now());
    atJob = a.body.id;
    const c = await call('POST', '/api/console/jobs', cw);
    expect(c.status).toBe(201);
    cwJob = c.body.id;
    expect((await call('GET', '/api/console/jobs?sort=label')).body.jobs.map((j: { id: number }) => j.id)).toEqual([atJob, cwJob]);
    expect((await call('POST', '/api/console/jobs', { ...at, cron: 'bad cron' })).status).toBe(400);
  });

  it('a dry run shows the diff and leaves the PSAs as they were', async () => {
    const before = demoQuantities(demo);
    const res = await call('POST', `/api/console/jobs/${atJob}/run`, { dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body.dryRun).toBe(true);
    expect(res.body.changes).toContainEqual(
      expect.objectContaining({ customerCode: 'FI', sku: 'HE-MBX-BASIC', action: 'update', from: 5, to: 2 }),
    );
    expect(res.body.changes).toContainEqual(
      expect.objectContaining({ customerCode: 'TT', sku: 'HAD-OFFICE', action: 'create', from: 0, to: 1 }),
    );
    expect(demoQuantities(demo)).toEqual(before);
  });

  it('Run Now queues the run; a scheduler process runs it and the contract quantities change', async () => {
    const queued = await call('POST', `/api/console/jobs/${atJob}/run`, {});
    expect(queued.status).toBe(202);
    expect(queued.body.status).toBe('Queued');
    const runner = new JobRunner(t.ctx, await jobsEnv(t.ctx));
    await runner.tick();
    await runner.drain();
    const run = (await call('GET', `/api/console/jobs/runs/${queued.body.id}`)).body;
    expect(run.status).toMatch(/Succeeded|CompletedWith/);
    expect(run.counts.changed).toBeGreaterThan(0);
    expect(qty('29683490', 'HE-MBX-BASIC')?.autotask).toBe(2);
    expect(qty('29683491', 'HE-MBX-BASIC')?.autotask).toBe(2);
    // Created because AllowAtriaCreateItems is True (AT11).
    expect(qty('29683492', 'HAD-OFFICE')?.autotask).toBe(1);

    const logs = (await call('GET', `/api/console/jobs/runs/${queued.body.id}/logs`)).body.entries as {
      code: string;
      level: string;
      message: string;
    }[];
    expect(logs[0]!.code).toBe('AT22');
    expect(logs.map((e) => e.code)).toEqual(expect.arrayContaining(['AT01', 'AT09', 'AT11', 'AT20', 'AT21', 'AT24']));
    // Demo lines without a SKU (user counts) are reported, not pushed (AT07).
    expect(logs.some((e) => e.code === 'AT07')).toBe(true);
    const byCode = (await call('GET', `/api/console/jobs/runs/${queued.body.id}/logs?sort=code&search=AT09`)).body.entries as {
      code: string;
    }[];
    expect(byCode.length).toBeGreaterThan(0);
    expect(byCode.every((e) => e.code === 'AT09')).toBe(true);
    const csv = await call('GET', `/api/console/jobs/runs/${queued.body.id}/logs?format=csv&sort=level`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(String(csv.body).split('\r\n')[1]).toMatch(/,(Error|Warning),/);
  });

  it('a second run changes nothing (AT10)', async () => {
    const runner = new JobRunner(t.ctx, await jobsEnv(t.ctx));
    const run = await runner.runNow(t.admin, atJob);
    expect(run.changed_count).toBe(0);
    const logs = (await call('GET', `/api/console/jobs/runs/${run.id}/logs?search=AT10`)).body.entries;
    expect(logs.length).toBeGreaterThan(0);
  });

  it('ConnectWise: additions follow the billed quantities, then stay', async () => {
    const runner = new JobRunner(t.ctx, await jobsEnv(t.ctx));
    const first = await runner.runNow(t.admin, cwJob);
    expect(first.status).toMatch(/Succeeded|CompletedWith/);
    expect(qty('29683490', 'HE-MBX-BASIC')?.connectwise).toBe(2);
    expect(qty('29683492', 'HAD-OFFICE')?.connectwise).toBe(1);
    const second = await runner.runNow(t.admin, cwJob);
    expect(second.changed_count).toBe(0);
    const runs = (await call('GET', `/api/console/jobs/${cwJob}/runs`)).body.runs;
    expect(runs).toHaveLength(2);
  });

  it('refuses callers without Manage Jobs, and secrets appear in no response, log line or database row', async () => {
    const anon = await api.inject({ method: 'GET', url: '/api/console/jobs' });
    expect(anon.statusCode).toBe(401);
    const edited = await call('PATCH', `/api/console/jobs/${atJob}`, {
      secrets: { UserName: DEFAULT_USER, Secret: 'sim-secret', IntegrationCode: 'SIMINTEGRATIONCODE' },
    });
    expect(edited.status).toBe(200);
    const rows = JSON.stringify([
      await t.db.selectFrom('jobs').selectAll().execute(),
      await t.db.selectFrom('job_runs').selectAll().execute(),
      await t.db.selectFrom('job_run_logs').selectAll().execute(),
    ]);
    for (const secret of SECRET_VALUES) {
      expect(responses.join('\n')).not.toContain(secret);
      expect(logText).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    expect(logText).toContain('job run ended');
  });
});

const DEFAULT_USER = 'atria-api@example.com';
