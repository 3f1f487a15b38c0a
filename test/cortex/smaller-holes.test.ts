import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { inTransaction } from '../../src/core/db/database.js';
import { DomainError } from '../../src/core/errors.js';
import { createJob, updateJob } from '../../src/jobs/job.service.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { loadDemo } from '../../src/demo/demo.js';
import { signIn } from '../../src/tenancy/sign-in/sign-in.js';
import { MAX_REPORT_TIMEOUT_MS, reportTimeout } from '../../src/reports/report.service.js';
import { startCortex, errorOf, request, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
});
afterAll(async () => {
  await api?.close();
  await t?.close();
});

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (e instanceof DomainError ? e.code : String(e)),
  );

describe('report time limits cannot be switched off', () => {
  const report = (timeout: string) =>
    request(
      'GET',
      `<report><name>Customers with Query</name><timeout>${timeout}</timeout><parameter name="Name">${t.provider.name}</parameter></report>`,
    );
  it('a negative <timeout> is refused with code 13', async () => {
    for (const v of ['-1', '-1000']) expect(errorOf(await api.post(report(v)))?.id, v).toBe(13);
  });
  it("the seed's <timeout>0</timeout> still runs (under the server's maximum)", async () => {
    expect(errorOf(await api.post(report('0')))).toBeUndefined();
  });
  it("0 and anything above the maximum mean the server's maximum, never no limit; -1 and fractions are refused", () => {
    expect(reportTimeout(0)).toBe(MAX_REPORT_TIMEOUT_MS);
    expect(reportTimeout(Number.MAX_SAFE_INTEGER)).toBe(MAX_REPORT_TIMEOUT_MS);
    expect(reportTimeout(5000)).toBe(5000);
    for (const v of [-1, 1.5, Number.NaN]) expect(() => reportTimeout(v), String(v)).toThrow(/must be a whole number of milliseconds/);
  });
  it('a <timeout> that is not a number or past any integer is refused, not run without a limit', async () => {
    for (const v of ['abc', '99999999999999999999', '1e309']) expect(errorOf(await api.post(report(v)))?.id, v).toBeGreaterThan(0);
  });
});

describe('job schedules have a minimum interval (TENANTRY_JOB_MIN_INTERVAL_SECONDS, default 60)', () => {
  it('refuses an every-second billing run on create and on edit; every minute or slower is accepted', async () => {
    const env = await jobsEnv(t.ctx);
    expect(env.minIntervalSeconds).toBe(60);
    const create = (cron: string) =>
      inTransaction(t.db, (tx) => createJob(tx, t.admin, env, { label: `billing ${cron}`, task: 'billing-run', cron }));
    expect(await codeOf(create('* * * * * *'))).toBe('ValidationError');
    expect(await codeOf(create('*/30 * * * * *'))).toBe('ValidationError');
    const job = await create('* * * * *');
    expect(await codeOf(inTransaction(t.db, (tx) => updateJob(tx, t.admin, env, job.id, { cron: '*/5 * * * * *' })))).toBe(
      'ValidationError',
    );
    expect(await codeOf(inTransaction(t.db, (tx) => updateJob(tx, t.admin, env, job.id, { cron: '0 22 26 * *' })))).toBe('ok');
  });
});

describe('tenantry demo', () => {
  it('gives each demo user a generated password, printed once, and no shared fixed one', async () => {
    const summary = await loadDemo(t.ctx, t.admin);
    const logins = summary
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    expect(logins.length).toBeGreaterThanOrEqual(7);
    expect(new Set(logins.map(([, p]) => p)).size).toBe(logins.length);
    const [user, password] = logins[0]!;
    expect((await signIn(t.db, { login: user!, password: password!, address: '127.0.0.1' })).userName).toBe(user);
    expect(await codeOf(signIn(t.db, { login: user!, password: 'Demo-Passw0rd!', address: '127.0.0.2' }))).toBe('NotAuthenticated');
  });
});
