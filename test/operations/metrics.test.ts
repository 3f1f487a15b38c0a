import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/core/logger.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createJob } from '../../src/jobs/job.service.js';
import { defaultRegistry } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { settle, startEngine } from '../provisioning/support.js';
import { ADMIN, request } from '../cortex/support.js';

const TOKEN = 'metrics-test-token-0123456789';
let t: TestContext;
let app: FastifyInstance;
let base: string;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  t = await openTestContext({ metricsToken: TOKEN });
  t.ctx.logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (logLines.push(JSON.parse(String(chunk))), done()) }));
  app = await buildServer(t.ctx);
  // A route whose domain-style code logs through the process logger, not the request's.
  app.get('/test/log-through-process-logger', async () => {
    await new Promise((r) => setTimeout(r, 1));
    t.ctx.logger.info('domain work');
    return { ok: true };
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  await t.close();
});

const basic = 'Basic ' + Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64');
const cortex = (xml: string) =>
  fetch(`${base}/CortexAPI/Default.aspx`, { method: 'POST', headers: { authorization: basic, 'content-type': 'text/xml' }, body: xml });

async function scrape(): Promise<string> {
  const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('text/plain');
  return r.text();
}

/** The value of one series, 0 when it is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics', () => {
  it('needs the bearer token', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('is off (404) without TENANTRY_METRICS_TOKEN', async () => {
    const other = await buildServer({ ...t.ctx, config: { ...t.ctx.config, metricsToken: undefined } });
    const r = await other.inject({ method: 'GET', url: '/metrics' });
    await other.close();
    expect(r.statusCode).toBe(404);
  });

  it('counts HTTP requests by route and status, and CortexAPI actions by result code', async () => {
    const before = await scrape();
    expect((await cortex(request('FIND', '<customer/>'))).status).toBe(200);
    expect((await cortex(request('FIND', '<customer/>'))).status).toBe(200);
    expect((await cortex(request('LIST', '<customer/>'))).status).toBe(400);
    expect((await fetch(`${base}/no/such/path/${Date.now()}`, { method: 'DELETE' })).status).toBe(404);
    const after = await scrape();
    const delta = (s: string) => sample(after, s) - sample(before, s);
    expect(delta('tenantry_http_requests_total{route="/CortexAPI/Default.aspx",method="POST",status="200"}')).toBe(2);
    expect(delta('tenantry_http_requests_total{route="/CortexAPI/Default.aspx",method="POST",status="400"}')).toBe(1);
    expect(delta('tenantry_http_requests_total{route="(unmatched)",method="DELETE",status="404"}')).toBe(1);
    // The second FIND may be answered from the read cache (embedded database).
    expect(
      delta('tenantry_cortex_actions_total{action="FIND",code="ok"}') + delta('tenantry_cortex_actions_total{action="cached",code="ok"}'),
    ).toBe(2);
    expect(delta('tenantry_cortex_actions_total{action="none",code="5"}')).toBe(1);
    expect(delta('tenantry_http_request_duration_seconds_count{route="/CortexAPI/Default.aspx",method="POST"}')).toBe(3);
  });

  it('shows the provisioning queue, then the driver time per driver and outcome once the engine works it off', async () => {
    const before = await scrape();
    const set = await cortex(
      request(
        'SET',
        '<customer><fullname>Metrics Customer</fullname><contactname>A</contactname><contactemail>a@m.example</contactemail><primarydomain>m.example</primarydomain></customer>',
      ),
    );
    const requestId = Number(/<id>(\d+)<\/id>/.exec(await set.text())![1]);
    const queued = await scrape();
    expect(sample(queued, 'tenantry_provisioning_queue_depth{status="Requested"}')).toBeGreaterThanOrEqual(1);
    const engine = await startEngine(t.ctx);
    try {
      await settle(t.db, [requestId]);
    } finally {
      await engine.stop();
    }
    const after = await scrape();
    expect(sample(after, 'tenantry_provisioning_queue_depth{status="Requested"}')).toBe(0);
    const series = 'tenantry_provisioning_driver_duration_seconds_count{driver="simulated",outcome="ok"}';
    expect(sample(after, series) - sample(before, series)).toBeGreaterThanOrEqual(1);
  });

  it('counts job runs by task and status, and billing run time and items', async () => {
    const env = { registry: defaultRegistry(), box: t.ctx.secrets };
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, { label: 'Metrics billing', task: 'billing-run', cron: '0 3 * * *' }),
    );
    const before = await scrape();
    const run = await new JobRunner(t.ctx, env).runNow(t.admin, job.id);
    const after = await scrape();
    const delta = (s: string) => sample(after, s) - sample(before, s);
    expect(delta(`tenantry_job_runs_total{task="billing-run",status="${run.status}"}`)).toBe(1);
    expect(delta('tenantry_billing_run_duration_seconds_count{kind="scheduled",outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    const items = await t.db
      .selectFrom('billing_runs')
      .select((eb) => eb.fn.sum<string>('items').as('n'))
      .where('actor_name', '=', `job ${job.id}`)
      .executeTakeFirstOrThrow();
    expect(delta('tenantry_billing_run_items_total{kind="scheduled"}')).toBe(Number(items.n));
  });
});

describe('request ids', () => {
  it('answers every response, errors included, with an X-Request-Id, keeping a well-formed one the caller sent', async () => {
    const own = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(own.headers.get('x-request-id')).toBe('lb-1234.abc');
    for (const given of ['two words "quoted"', 'x'.repeat(65)]) {
      const replaced = await fetch(`${base}/healthz`, { headers: { 'x-request-id': given } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const unauthorized = await fetch(`${base}/CortexAPI/Default.aspx`, { method: 'POST', body: request('FIND', '<customer/>') });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("puts the request id on every log line written while serving it, the process logger's too", async () => {
    logLines.length = 0;
    const r = await fetch(`${base}/test/log-through-process-logger`, { headers: { 'x-request-id': 'trace-me-42' } });
    expect(r.status).toBe(200);
    const mine = logLines.filter((l) => l.reqId === 'trace-me-42').map((l) => l.msg);
    expect(mine).toEqual(['incoming request', 'domain work', 'request completed']);
    expect(logLines.filter((l) => l.msg === 'domain work')).toHaveLength(1);
  });
});

describe('the metrics setting', () => {
  it('refuses a short or shell-hostile TENANTRY_METRICS_TOKEN with one clear line', () => {
    for (const bad of ['short', 'has a space in it, long enough']) {
      expect(() => loadConfig({ TENANTRY_METRICS_TOKEN: bad })).toThrow(
        new ConfigError('TENANTRY_METRICS_TOKEN must be at least 16 characters of letters, digits and . _ ~ + / = -'),
      );
    }
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });
});
