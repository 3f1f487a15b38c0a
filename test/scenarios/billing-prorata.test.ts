import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { freshScenario, itemsOf, ledger } from '../support/billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { billPeriods } from '../../src/billing/periods/bill-periods.js';

let t: TestContext;
let acme: Tenant;
let gone: Tenant;
let alice: User;
let bob: User;
let he: number;

const mailbox = (userServiceId: number, userId: number, customerId: number, plan: 'Ex10Basic' | 'Ex10Full' = 'Ex10Basic') => ({
  customerId,
  userId,
  serviceId: he,
  userServiceId,
  customerServiceId: 9000 + customerId,
  planCode: plan,
  planName: plan === 'Ex10Basic' ? 'Ex10 Basic' : 'Ex10 Full',
  sku: plan === 'Ex10Basic' ? 'HE-MBX-BASIC' : 'HE-MBX-FULL',
});

beforeAll(async () => {
  t = await openTestContext();
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Widgets' });
  gone = await makeTenant(t.db, t.admin, { fullname: 'Gone Tomorrow' });
  alice = (
    await inTransaction(t.db, (tx) => createUser(tx, t.admin, acme.customer, { name: 'alice', firstName: 'Alice', lastName: 'Archer' }))
  ).user;
  bob = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, acme.customer, { name: 'bob', firstName: 'Bob', lastName: 'Baker' })))
    .user;
  he = (await getService(t.db, { name: 'HE' })).id;
});
afterAll(() => t.close());

describe('pro-rata in a 30-day month (June 2024, UTC)', () => {
  beforeAll(async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
    const a = acme.customer.id;
    await ledger(t.db, t.admin, [
      // carried from May, plan changed on the 15th
      { at: '2024-05-03T08:00:00Z', action: 'user_service_added', ...mailbox(1, alice.id, a) },
      { at: '2024-06-15T12:00:00Z', action: 'user_service_plan_changed', ...mailbox(1, alice.id, a, 'Ex10Full') },
      // added on the 10th, kept
      { at: '2024-06-10T09:00:00Z', action: 'user_service_added', ...mailbox(2, bob.id, a) },
      // added on the 10th, removed on the 20th
      { at: '2024-06-10T09:00:00Z', action: 'user_service_added', ...mailbox(3, bob.id, a, 'Ex10Full') },
      { at: '2024-06-20T17:00:00Z', action: 'user_service_removed', ...mailbox(3, bob.id, a, 'Ex10Full'), quantity: '0' },
      // added and removed on the same day
      { at: '2024-06-12T09:00:00Z', action: 'user_service_added', ...mailbox(4, alice.id, a) },
      { at: '2024-06-12T15:00:00Z', action: 'user_service_removed', ...mailbox(4, alice.id, a), quantity: '0' },
      // a customer created in May and de-provisioned on the 21st: everything it has ends
      { at: '2024-05-02T00:00:00Z', action: 'customer_created', customerId: gone.customer.id },
      { at: '2024-05-02T00:00:00Z', action: 'user_created', customerId: gone.customer.id, userId: gone.adminUser.id },
      { at: '2024-05-02T01:00:00Z', action: 'user_service_added', ...mailbox(5, gone.adminUser.id, gone.customer.id) },
      { at: '2024-06-21T10:00:00Z', action: 'customer_deprovisioned', customerId: gone.customer.id, quantity: '0' },
      // a user of Acme deleted on the 16th: the user and its mailbox end
      { at: '2024-05-02T00:00:00Z', action: 'user_created', customerId: a, userId: acme.adminUser.id },
      { at: '2024-05-02T00:00:00Z', action: 'user_service_added', ...mailbox(6, acme.adminUser.id, a) },
      { at: '2024-06-16T00:30:00Z', action: 'user_deleted', customerId: a, userId: acme.adminUser.id, quantity: '0' },
    ]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-07-05T00:00:00Z') });
  });

  const byService = async (userServiceId: number) => (await itemsOf(t.db, '2024-06-30')).filter((i) => i.user_service_id === userServiceId);

  it('bills a user service added on the 10th of a 30-day period at 70%', async () => {
    const [item] = await byService(2);
    expect(item).toMatchObject({ action: 'Added', percent_duration: '70.00', quantity: '1', sku: 'HE-MBX-BASIC', ended_at: null });
  });

  it('bills a service added on the 10th and removed on the 20th for 10 days (33.33%)', async () => {
    const [item] = await byService(3);
    expect(item).toMatchObject({ action: 'Removed', percent_duration: '33.33', sku: 'HE-MBX-FULL', removed_by_user_name: 'admin_SP' });
  });

  it('shows a service added and removed on the same day at 0%', async () => {
    const items = await byService(4);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ action: 'Removed', percent_duration: '0.00' });
  });

  it('splits a plan change on the 15th into two items that add up to the whole month', async () => {
    const [old, current] = await byService(1);
    expect(old).toMatchObject({ action: 'Removed', plan_code: 'Ex10Basic', sku: 'HE-MBX-BASIC', percent_duration: '46.67' });
    expect(current).toMatchObject({
      action: 'Added',
      plan_code: 'Ex10Full',
      sku: 'HE-MBX-FULL',
      percent_duration: '53.33',
      ended_at: null,
    });
  });

  it('ends a deleted user and its services on the day of the deletion (15 of 30 days)', async () => {
    const items = (await itemsOf(t.db, '2024-06-30')).filter((i) => i.user_id === acme.adminUser.id);
    expect(items.map((i) => [i.item_kind, i.action, i.percent_duration, i.summary_grouping])).toEqual([
      [3, 'Removed', '50.00', 'Users'],
      [4, 'Removed', '50.00', 'Hosted Exchange, Ex10 Basic'],
    ]);
  });

  it('ends every item of a de-provisioned customer (20 of 30 days)', async () => {
    const items = (await itemsOf(t.db, '2024-06-30')).filter((i) => i.customer_id === gone.customer.id);
    expect(items.map((i) => [i.item_kind, i.action, i.percent_duration])).toEqual([
      [1, 'Removed', '66.67'],
      [3, 'Removed', '66.67'],
      [4, 'Removed', '66.67'],
    ]);
    expect(items[0]!.summary_grouping).toBe('Tenants');
  });

  it('is idempotent: a second run writes nothing and keeps every row and id', async () => {
    const before = await itemsOf(t.db, '2024-06-30');
    const [second] = await runBilling(t.db, t.admin, { period: '2024-06-30', reprocess: true, now: new Date('2024-07-05T00:00:00Z') });
    expect(second).toMatchObject({ items: before.length, added: 0, removed: 0 });
    expect(await itemsOf(t.db, '2024-06-30')).toEqual(before);
  });

  it('refuses to rebuild a finalized closed period without an explicit reprocess', async () => {
    await expect(runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-07-06T00:00:00Z') })).rejects.toThrow(
      /closed; rebuild it with an explicit reprocess/,
    );
  });
});

describe('period lengths and kinds', () => {
  it('bills an item added on the 8th of 28-, 29-, 30- and 31-day months exactly', async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2023-01-01T00:00:00Z');
    const a = acme.customer.id;
    await ledger(t.db, t.admin, [
      { at: '2023-02-08T10:00:00Z', action: 'user_service_added', ...mailbox(11, alice.id, a) },
      { at: '2024-02-08T10:00:00Z', action: 'user_service_added', ...mailbox(12, alice.id, a) },
      { at: '2024-04-08T10:00:00Z', action: 'user_service_added', ...mailbox(13, alice.id, a) },
      { at: '2024-01-08T10:00:00Z', action: 'user_service_added', ...mailbox(14, alice.id, a) },
    ]);
    const now = new Date('2024-05-02T00:00:00Z');
    const pct = async (end: string, us: number) => {
      await runBilling(t.db, t.admin, { period: end, reprocess: true, now });
      return (await itemsOf(t.db, end)).find((i) => i.user_service_id === us && i.action === 'Added')?.percent_duration;
    };
    expect(await pct('2023-02-28', 11)).toBe('75.00'); // 21/28
    expect(await pct('2024-02-29', 12)).toBe('75.86'); // 22/29
    expect(await pct('2024-04-30', 13)).toBe('76.67'); // 23/30
    expect(await pct('2024-01-31', 14)).toBe('77.42'); // 24/31
  });

  it('runs a period starting on the 26th across the year end (26 Dec – 25 Jan, 31 days)', async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'fixed_start_day', day: 26 }, '2024-12-01T00:00:00Z');
    await ledger(t.db, t.admin, [
      { at: '2024-12-20T10:00:00Z', action: 'user_service_added', ...mailbox(21, alice.id, acme.customer.id) },
      { at: '2025-01-01T10:00:00Z', action: 'user_service_added', ...mailbox(22, bob.id, acme.customer.id) },
    ]);
    const now = new Date('2025-01-26T00:00:01Z');
    const periods = await billPeriods(t.db, now);
    expect(periods.map((p) => [p.startDate, p.endDate, p.name, p.status])).toEqual([
      ['2024-11-26', '2024-12-25', 'December 2024', 'closed'],
      ['2024-12-26', '2025-01-25', 'January 2025', 'closed'],
      ['2025-01-26', '2025-02-25', 'February 2025', 'open'],
    ]);
    await runBilling(t.db, t.admin, { period: '2025-01-25', now });
    const items = await itemsOf(t.db, '2025-01-25');
    expect(items.map((i) => [i.action, i.percent_duration])).toEqual([
      ['Carried', '100.00'],
      ['Added', '80.65'], // 1–25 Jan = 25 of 31 days
    ]);
  });

  it('counts days in the provider time zone: a change 30 minutes after midnight in Sydney is that day', async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'Australia/Sydney', kind: 'month_end', day: 0 }, '2024-05-15T00:00:00Z');
    await ledger(t.db, t.admin, [
      { at: '2024-06-09T14:30:00Z', action: 'user_service_added', ...mailbox(31, alice.id, acme.customer.id) }, // 10 Jun 00:30 AEST
      { at: '2024-06-09T13:30:00Z', action: 'user_service_added', ...mailbox(32, bob.id, acme.customer.id) }, // 9 Jun 23:30 AEST
      { at: '2024-05-31T13:59:00Z', action: 'user_service_added', ...mailbox(33, bob.id, acme.customer.id, 'Ex10Full') }, // 31 May 23:59 AEST
    ]);
    const now = new Date('2024-07-01T00:00:00Z');
    const [run] = await runBilling(t.db, t.admin, { period: '2024-06-30', now });
    expect(run!.period.startsAt.toISOString()).toBe('2024-05-31T14:00:00.000Z');
    expect((await itemsOf(t.db, '2024-06-30')).map((i) => [i.action, i.percent_duration])).toEqual([
      ['Added', '70.00'],
      ['Added', '73.33'],
      ['Carried', '100.00'],
    ]);
  });

  it('counts a DST change day as one calendar day (New York, March 2024)', async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'America/New_York', kind: 'month_end', day: 0 }, '2024-02-15T00:00:00Z');
    await ledger(t.db, t.admin, [
      { at: '2024-03-10T06:30:00Z', action: 'user_service_added', ...mailbox(41, alice.id, acme.customer.id) }, // 10 Mar 01:30 EST
      { at: '2024-03-10T04:30:00Z', action: 'user_service_added', ...mailbox(42, bob.id, acme.customer.id) }, // 9 Mar 23:30 EST
      { at: '2024-03-11T03:59:00Z', action: 'user_service_removed', ...mailbox(42, bob.id, acme.customer.id), quantity: '0' }, // 10 Mar 23:59 EDT
    ]);
    const [run] = await runBilling(t.db, t.admin, { period: '2024-03-31', now: new Date('2024-04-02T00:00:00Z') });
    expect([run!.period.startsAt.toISOString(), run!.period.endsAt.toISOString()]).toEqual([
      '2024-03-01T05:00:00.000Z',
      '2024-04-01T04:00:00.000Z',
    ]);
    expect((await itemsOf(t.db, '2024-03-31')).map((i) => [i.action, i.percent_duration])).toEqual([
      ['Added', '70.97'], // 10–31 Mar: 22 of 31 days
      ['Removed', '3.23'], // 9 Mar only (removed late on the 10th): 1 of 31 days
    ]);
  });
});
