import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { previewBilling } from '../../src/billing/run/preview-billing.js';
import { billingSummary } from '../../src/billing/summary.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { createJob } from '../../src/jobs/job.service.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { getRun, runLogs } from '../../src/jobs/run.service.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';

let t: TestContext;
let acme: Tenant;
let alice: User;
let testy: User;
let he: number;

const mailbox = (userServiceId: number, user: User, plan: 'Ex10Basic' | 'Ex10Full' = 'Ex10Basic') => ({
  customerId: user.customerId,
  userId: user.id,
  serviceId: he,
  userServiceId,
  customerServiceId: 7000 + user.customerId,
  planCode: plan,
  planName: plan === 'Ex10Basic' ? 'Ex10 Basic' : 'Ex10 Full',
  sku: plan === 'Ex10Basic' ? 'HE-MBX-BASIC' : 'HE-MBX-FULL',
});

/** Everything a billing run writes, to prove a dry run wrote none of it. */
async function state(): Promise<unknown> {
  const items =
    await sql`select id, bill_period_id, service_change_id, ended_at, trim_scale(quantity)::text as q from bill_items order by id`.execute(
      t.db,
    );
  const periods = await sql`select id, end_date, last_run_at, finalized_at from bill_periods order by id`.execute(t.db);
  const runs = await sql`select id, status from billing_runs order by id`.execute(t.db);
  return { items: items.rows, periods: periods.rows, runs: runs.rows };
}

beforeAll(async () => {
  t = await openTestContext();
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Dry Run' });
  alice = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, acme.customer, { name: 'alice' }))).user;
  testy = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, acme.customer, { name: 'testy' }))).user;
  he = (await getService(t.db, { name: 'HE' })).id;
  await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
  const ca = acme.customer.id;
  await ledger(t.db, t.admin, [
    { at: '2024-05-01T09:00:00Z', action: 'customer_created', customerId: ca },
    { at: '2024-05-01T09:00:00Z', action: 'user_created', customerId: ca, userId: alice.id },
    { at: '2024-05-01T09:00:00Z', action: 'user_created', customerId: ca, userId: testy.id },
    { at: '2024-05-10T09:00:00Z', action: 'user_service_added', ...mailbox(1, alice) },
    { at: '2024-05-10T09:00:00Z', action: 'user_service_added', ...mailbox(2, testy) },
  ]);
  // June is billed and finalized: 2 basic mailboxes.
  await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-07-03T00:00:00Z') });
  // Changes that reach the ledger after that run: testy's mailbox removed, alice given a full one.
  await ledger(t.db, t.admin, [
    { at: '2024-06-20T09:00:00Z', action: 'user_service_removed', ...mailbox(2, testy), quantity: '0' },
    { at: '2024-06-25T09:00:00Z', action: 'user_service_added', ...mailbox(3, alice, 'Ex10Full') },
  ]);
});
afterAll(() => t.close());

describe('Billing Run task dry run', () => {
  it('previews per period the items added, changed and removed and the quantity deltas, writing nothing', async () => {
    const before = await state();
    const [june, ...rest] = await previewBilling(t.db, t.admin, { period: '2024-06-30', reprocess: true });
    expect(rest).toEqual([]);
    expect(june).toMatchObject({ items: 6, added: 1, changed: 1, removed: 0 });
    expect(june!.period.endDate).toBe('2024-06-30');
    expect(june!.quantities.map((q) => [q.customerCode, q.sku, q.before, q.after])).toEqual([
      [acme.customer.name, 'HE-MBX-BASIC', '2', '1'],
      [acme.customer.name, 'HE-MBX-FULL', '0', '1'],
    ]);
    expect(await state()).toEqual(before);
  });

  it('`jobs run ID --dry-run` reports the diff in the run and its log; the real run then writes exactly that', async () => {
    const env = await jobsEnv(t.ctx);
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, {
        label: 'Reprocess June',
        task: 'billing-run',
        cron: '0 0 1 1 *',
        logLevel: 'Verbose',
        parameters: { BillingPeriod: '2024-06-30', Reprocess: 'True' },
      }),
    );
    const runner = new JobRunner(t.ctx, env);
    const before = await state();
    const dry = await getRun(t.db, t.admin, (await runner.runNow(t.admin, job.id, { dryRun: true })).id);
    expect(await state()).toEqual(before);
    expect([dry.status, dry.dryRun]).toEqual(['Succeeded', true]);
    expect(dry.changes.map((c) => [c.customerCode, c.sku, c.action, c.from, c.to])).toEqual([
      [acme.customer.name, 'HE-MBX-BASIC', 'update', 2, 1],
      [acme.customer.name, 'HE-MBX-FULL', 'create', 0, 1],
    ]);
    expect(dry.message).toBe('dry run: 1 period(s); 1 items would be added, 1 changed, 0 removed; 2 customer quantities would change');
    const log = await runLogs(t.db, t.admin, dry.id);
    expect(log.map((e) => e.code)).toEqual(['BR01', 'BR02', 'BR05', 'BR05', 'BR04']);
    expect(log[1]!.message).toBe(
      'Billing period 2024-06-30: 6 items; the run would add 1, change 1 and remove 0 items, and change 2 customer quantities.',
    );
    expect(log[2]!.message).toBe(
      `${acme.customer.name} SKU HE-MBX-BASIC: billable quantity at the end of billing period 2024-06-30 would change from 2 to 1.`,
    );

    const real = await getRun(t.db, t.admin, (await runner.runNow(t.admin, job.id)).id);
    expect(real.status).toBe('Succeeded');
    // A rewritten item is one written and one replaced: 1 added + 1 changed written, 1 changed replaced.
    expect((await runLogs(t.db, t.admin, real.id, { search: 'BR02' }))[0]!.message).toMatch(
      /^Billing period 2024-06-30: 6 items \(2 written, 1 replaced or gone\)/,
    );
    const summary = await billingSummary(t.db, t.admin, { endDate: '2024-06-30', billable: true });
    const mailboxes = summary.items.filter((i) => i.sku?.startsWith('HE-MBX')).map((i) => [i.sku, i.currentPeriod]);
    expect(mailboxes).toEqual([
      ['HE-MBX-BASIC', '1'],
      ['HE-MBX-FULL', '1'],
    ]);

    // Nothing left to change: a second dry run says so.
    const again = await getRun(t.db, t.admin, (await runner.runNow(t.admin, job.id, { dryRun: true })).id);
    expect(again.changes).toEqual([]);
    expect(again.message).toBe('dry run: 1 period(s); 0 items would be added, 0 changed, 0 removed; 0 customer quantities would change');
  });

  it('reports a period the run refuses (closed, no Reprocess) as BR03 without writing', async () => {
    const env = await jobsEnv(t.ctx);
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, {
        label: 'June without reprocess',
        task: 'billing-run',
        cron: '0 0 1 1 *',
        parameters: { BillingPeriod: '2024-06-30' },
      }),
    );
    const before = await state();
    const run = await new JobRunner(t.ctx, env).runNow(t.admin, job.id, { dryRun: true });
    expect(run.status).toBe('Failed');
    expect((await runLogs(t.db, t.admin, run.id, { search: 'BR03' }))[0]!.message).toMatch(
      /^Billing run failed: The billing period ending 2024-06-30 is closed/,
    );
    expect(await state()).toEqual(before);
  });
});
