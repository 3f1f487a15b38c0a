import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { freshScenario, itemsOf, ledger } from '../support/billing.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { billingSummary } from '../../src/billing/summary.js';
import {
  deprovisionCustomerService,
  deprovisionUserService,
  provisionCustomerService,
  provisionUserService,
} from '../../src/services/service-assignment.service.js';
import { deprovisionCustomer } from '../../src/provisioning/customer-lifecycle.js';

let t: TestContext;

beforeAll(async () => {
  t = await openTestContext();
  await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 });
});
afterAll(() => t.close());

async function tenantWithMailbox(fullname: string): Promise<{ tenant: Tenant; alice: User }> {
  const tenant = await makeTenant(t.db, t.admin, { fullname });
  const alice = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, tenant.customer, { name: 'alice' }))).user;
  await inTransaction(t.db, async (tx) => {
    await provisionCustomerService(tx, t.admin, tenant.customer, {
      service: { name: 'HE' },
      userPlans: [{ plan: { name: 'Ex10Basic' }, enabled: true }],
    });
    await provisionUserService(tx, t.admin, tenant.customer, alice, { service: { name: 'HE' }, userPlans: [{ name: 'Ex10Basic' }] });
  });
  return { tenant, alice };
}

/** The user's mailbox rows in the ledger, oldest first. */
async function mailboxLedger(user: User): Promise<{ action: string; occurred_at: Date; actor_name: string }[]> {
  const r = await sql<{ action: string; occurred_at: Date; actor_name: string }>`
    select action, occurred_at, actor_name from service_changes where user_id = ${user.id} and user_service_id is not null order by occurred_at, id`.execute(
    t.db,
  );
  return r.rows;
}

describe('user services removed before their customer service or customer is de-provisioned', () => {
  it('records the removal once and bills the mailbox once, up to its own removal', async () => {
    const { tenant, alice } = await tenantWithMailbox('Ledger Customer One');
    // The user service's de-provision stays "Requested" (no worker runs here) when the customer service goes.
    await inTransaction(t.db, (tx) => deprovisionUserService(tx, t.admin, tenant.customer, alice, { name: 'HE' }));
    await inTransaction(t.db, (tx) => deprovisionUserService(tx, t.admin, tenant.customer, alice, { name: 'HE' }));
    await inTransaction(t.db, (tx) => deprovisionCustomerService(tx, t.admin, tenant.customer, { name: 'HE' }));

    const rows = await mailboxLedger(alice);
    expect(rows.map((r) => r.action)).toEqual(['user_service_added', 'user_service_removed']);
    expect(rows[1]!.actor_name).toBe(t.admin.userName);

    const [run] = await runBilling(t.db, t.admin, { period: 'Current' });
    const mailbox = (await itemsOf(t.db, run!.period.endDate)).filter((i) => i.user_id === alice.id && i.item_kind === 4);
    expect(mailbox).toHaveLength(1);
    expect(mailbox[0]).toMatchObject({
      action: 'Removed',
      quantity: '1',
      ended_at: rows[1]!.occurred_at,
      removed_by_user_name: t.admin.userName,
    });
    const summary = await billingSummary(t.db, t.admin, { endDate: run!.period.endDate, customerId: tenant.customer.id });
    expect(summary.items.filter((i) => i.sku === 'HE-MBX-BASIC')).toEqual([]);
  });

  it('a de-provisioned customer records no second removal for a user service already removed', async () => {
    const { tenant, alice } = await tenantWithMailbox('Ledger Customer Two');
    await inTransaction(t.db, (tx) => deprovisionUserService(tx, t.admin, tenant.customer, alice, { name: 'HE' }));
    await inTransaction(t.db, (tx) => deprovisionCustomer(tx, t.admin, { id: tenant.customer.id }));

    expect((await mailboxLedger(alice)).map((r) => r.action)).toEqual(['user_service_added', 'user_service_removed']);
    const [run] = await runBilling(t.db, t.admin, { period: 'Current' });
    const items = (await itemsOf(t.db, run!.period.endDate)).filter((i) => i.customer_id === tenant.customer.id);
    expect(items.filter((i) => i.item_kind === 4)).toHaveLength(1);
    // Everything the customer had ends with it (seed 003 AT20/AT21): nothing is active at the period's end.
    expect(items.every((i) => i.ended_at !== null)).toBe(true);
  });
});

describe('a disabled user', () => {
  it('stops the user line on the day it is disabled and reopens it when enabled; its mailbox keeps billing', async () => {
    const { customer, adminUser: carol } = await makeTenant(t.db, t.admin, { fullname: 'Ledger Customer Three' });
    const he = (await getService(t.db, { name: 'HE' })).id;
    const box = {
      customerId: customer.id,
      userId: carol.id,
      serviceId: he,
      userServiceId: 9001,
      customerServiceId: 9000,
      planCode: 'Ex10Basic',
      planName: 'Ex10 Basic',
      sku: 'HE-MBX-BASIC',
    };
    await ledger(t.db, t.admin, [
      { at: '2024-05-02T00:00:00Z', action: 'user_created', customerId: customer.id, userId: carol.id },
      { at: '2024-05-02T01:00:00Z', action: 'user_service_added', ...box },
      { at: '2024-06-16T00:30:00Z', action: 'user_disabled', customerId: customer.id, userId: carol.id },
      { at: '2024-06-21T09:00:00Z', action: 'user_enabled', customerId: customer.id, userId: carol.id },
    ]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-07-05T00:00:00Z') });
    const items = (await itemsOf(t.db, '2024-06-30')).filter((i) => i.user_id === carol.id);
    expect(items.map((i) => [i.item_kind, i.action, i.percent_duration, i.ended_at === null])).toEqual([
      [3, 'Removed', '50.00', false],
      [4, 'Carried', '100.00', true],
      [3, 'Added', '33.33', true],
    ]);
  });
});
