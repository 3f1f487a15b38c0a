import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, makeTenant, type ResellerTree, type Tenant } from '../support/fixtures.js';
import { freshScenario, itemsOf, ledger } from '../support/billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { addNoSkuRule, addRule, listRules } from '../../src/billing/rules/billing-rules.js';
import { billingSummary, resolvePeriod } from '../../src/billing/summary.js';
import { provisionCustomerService, provisionUserService } from '../../src/services/service-assignment.service.js';
import { DomainError } from '../../src/core/errors.js';

let t: TestContext;
let tree: ResellerTree;
let subReseller: Tenant;
let subCustomer: Tenant;
let alice: User;
let testy: User;
let he: number;
const now = new Date('2024-07-03T00:00:00Z');

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

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
  subReseller = await makeTenant(t.db, tree.resellerA.admin, { fullname: 'Sub Reseller Gamma', isReseller: true });
  subCustomer = await makeTenant(t.db, subReseller.admin, { fullname: 'Deep Customer Delta' });
  await inTransaction(t.db, async (tx) => {
    await updateCustomer(tx, t.admin, { id: tree.customerA.customer.id }, { billToParent: true });
    await updateCustomer(tx, t.admin, { id: subReseller.customer.id }, { billToParent: true });
    await updateCustomer(tx, t.admin, { id: subCustomer.customer.id }, { billToParent: true });
  });
  alice = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, tree.customerA.customer, { name: 'alice' }))).user;
  testy = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, tree.customerA.customer, { name: 'testy' }))).user;
  he = (await getService(t.db, { name: 'HE' })).id;

  await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
  const ca = tree.customerA.customer.id;
  const cb = tree.customerB.customer.id;
  await ledger(t.db, t.admin, [
    { at: '2024-05-01T09:00:00Z', action: 'customer_created', customerId: ca },
    { at: '2024-05-01T09:00:00Z', action: 'user_created', customerId: ca, userId: alice.id },
    { at: '2024-05-01T09:00:00Z', action: 'user_created', customerId: ca, userId: testy.id },
    { at: '2024-05-10T09:00:00Z', action: 'user_service_added', ...mailbox(1, alice) },
    { at: '2024-05-10T09:00:00Z', action: 'user_service_added', ...mailbox(2, testy) },
    { at: '2024-06-20T09:00:00Z', action: 'user_service_removed', ...mailbox(2, testy), quantity: '0' },
    { at: '2024-06-05T09:00:00Z', action: 'user_service_added', ...mailbox(3, alice, 'Ex10Full') },
    { at: '2024-05-01T09:00:00Z', action: 'customer_created', customerId: cb },
    { at: '2024-05-02T09:00:00Z', action: 'user_service_added', ...mailbox(4, tree.customerB.adminUser) },
    { at: '2024-06-15T00:00:00Z', action: 'customer_deprovisioned', customerId: cb, quantity: '0' },
    { at: '2024-06-01T00:00:00Z', action: 'customer_created', customerId: subCustomer.customer.id },
  ]);
});
afterAll(() => t.close());

describe('bill-to', () => {
  it('bills a customer to its reseller, and through a billed-by-parent sub-reseller to the reseller above', async () => {
    await runBilling(t.db, t.admin, { period: '2024-06-30', now });
    const items = await itemsOf(t.db, '2024-06-30');
    const billTo = (customerId: number) => new Set(items.filter((i) => i.customer_id === customerId).map((i) => i.bill_customer_id));
    expect(billTo(tree.customerA.customer.id)).toEqual(new Set([tree.resellerA.customer.id]));
    expect(billTo(subCustomer.customer.id)).toEqual(new Set([tree.resellerA.customer.id]));
    expect(billTo(tree.customerB.customer.id)).toEqual(new Set([tree.customerB.customer.id]));
  });
});

describe('summary semantics', () => {
  it('counts units at the previous and this period end per customer, SKU and line, keeping zeroed lines', async () => {
    const s = await billingSummary(t.db, t.admin, { endDate: '2024-06-30' });
    expect([s.periodName, s.startDate.toISOString(), s.endDate.toISOString()]).toEqual([
      'June 2024',
      '2024-06-01T00:00:00.000Z',
      '2024-06-30T23:59:59.999Z',
    ]);
    const rows = s.items.map((i) => [i.customerCode, i.sku, i.lineDescription, i.previousPeriod, i.change, i.currentPeriod]);
    const a = tree.customerA.customer.name;
    const b = tree.customerB.customer.name;
    expect(rows).toEqual(
      [
        [a, 'HE-MBX-BASIC', 'Hosted Exchange, Ex10 Basic', '2', '-1', '1'],
        [a, 'HE-MBX-FULL', 'Hosted Exchange, Ex10 Full', '0', '1', '1'],
        [a, null, 'Tenants', '1', '0', '1'],
        [a, null, 'Users', '2', '0', '2'],
        // de-provisioned on the 15th: its lines stay, at zero, so the PSA zeroes them
        [b, 'HE-MBX-BASIC', 'Hosted Exchange, Ex10 Basic', '1', '-1', '0'],
        [b, null, 'Tenants', '1', '-1', '0'],
        [subCustomer.customer.name, null, 'Tenants', '0', '1', '1'],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  });

  it('aggregates by customer and SKU, and filters one customer', async () => {
    const s = await billingSummary(t.db, t.admin, {
      endDate: '2024-06-30',
      customerId: tree.customerA.customer.id,
      aggregateByCustomer: true,
    });
    expect(s.items.map((i) => [i.sku, i.lineDescription, i.currentPeriod])).toEqual([
      ['HE-MBX-BASIC', 'Hosted Exchange, Ex10 Basic', '1'],
      ['HE-MBX-FULL', 'Hosted Exchange, Ex10 Full', '1'],
      [null, 'Tenants; Users', '3'],
    ]);
  });

  it('scopes to the caller: a reseller sees its subtree and is refused a sibling customer', async () => {
    const s = await billingSummary(t.db, tree.resellerA.admin, { endDate: '2024-06-30' });
    expect(new Set(s.items.map((i) => i.customerId))).toEqual(new Set([tree.customerA.customer.id, subCustomer.customer.id]));
    await expect(
      billingSummary(t.db, tree.resellerA.admin, { endDate: '2024-06-30', customerId: tree.customerB.customer.id }),
    ).rejects.toMatchObject({ code: 'CustomerNotFound' });
  });

  it('resolves Current, Previous and any day of a period', async () => {
    expect((await resolvePeriod(t.db, 'Previous', now)).endDate).toBe('2024-06-30');
    expect((await resolvePeriod(t.db, 'current', now)).endDate).toBe('2024-07-31');
    expect((await resolvePeriod(t.db, '2024-06-11', now)).endDate).toBe('2024-06-30');
    await expect(resolvePeriod(t.db, '2024-13-01', now)).rejects.toBeInstanceOf(DomainError);
  });
});

describe('billing rules', () => {
  it('lets the rule latest in processing order decide, stamps its reason and id, and ignores rules out of their dates', async () => {
    const noSku = await inTransaction(t.db, (tx) => addNoSkuRule(tx, t.admin));
    expect((await inTransaction(t.db, (tx) => addNoSkuRule(tx, t.admin))).id).toBe(noSku.id);
    const naming = await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'Reseller A names mailboxes',
        overrideReason: 'Reseller naming',
        processingOrder: 3,
        customer: { id: tree.resellerA.customer.id },
        service: { name: 'HE' },
        effect: 'override_description',
        overrideDescription: 'Exchange mailbox',
      }),
    );
    const tests = await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'Test users are free',
        overrideReason: 'Test user',
        processingOrder: 5,
        service: { name: 'HE' },
        userNamePattern: 'test*',
        effect: 'not_billable',
      }),
    );
    await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'Expired rename',
        overrideReason: 'Old SKU',
        processingOrder: 10,
        sku: 'HE-MBX-BASIC',
        validTo: '2024-05-31',
        effect: 'override_sku',
        overrideSku: 'OLD',
      }),
    );
    await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'Reseller A itself only',
        overrideReason: 'Own',
        processingOrder: 7,
        customer: { id: tree.resellerA.customer.id },
        includeSubtree: false,
        effect: 'not_billable',
      }),
    );
    expect((await listRules(t.db)).map((r) => r.processingOrder)).toEqual([10, 7, 5, 3, 0]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', reprocess: true, now });
    const items = await itemsOf(t.db, '2024-06-30');
    const decided = (pred: (i: (typeof items)[number]) => boolean) =>
      items.filter(pred).map((i) => [i.is_billable, i.override_reason, i.bill_config_rule_id, i.summary_grouping, i.sku]);
    expect(decided((i) => i.user_id === testy.id && i.item_kind === 4)).toEqual([
      [false, 'Test user', tests.id, 'Hosted Exchange, Ex10 Basic', 'HE-MBX-BASIC'],
    ]);
    expect(decided((i) => i.user_id === alice.id && i.item_kind === 4)).toEqual([
      [true, 'Reseller naming', naming.id, 'Exchange mailbox', 'HE-MBX-BASIC'],
      [true, 'Reseller naming', naming.id, 'Exchange mailbox', 'HE-MBX-FULL'],
    ]);
    expect(decided((i) => i.customer_id === tree.customerB.customer.id && i.item_kind === 4)).toEqual([
      [true, null, null, 'Hosted Exchange, Ex10 Basic', 'HE-MBX-BASIC'],
    ]);
    expect(new Set(decided((i) => i.item_kind === 1 || i.item_kind === 3).map((d) => d.slice(0, 3).join('|')))).toEqual(
      new Set([`false|No SKU|${noSku.id}`]),
    );
    const billable = await billingSummary(t.db, t.admin, { endDate: '2024-06-30', billable: true, customerId: tree.customerA.customer.id });
    expect(billable.items.map((i) => [i.sku, i.lineDescription, i.currentPeriod])).toEqual([
      ['HE-MBX-BASIC', 'Exchange mailbox', '1'],
      ['HE-MBX-FULL', 'Exchange mailbox', '1'],
    ]);
  });

  it('refuses a rule without a reason, and rules from a caller without "Manage Billing"', async () => {
    await expect(
      inTransaction(t.db, (tx) => addRule(tx, t.admin, { description: 'x', overrideReason: ' ', effect: 'not_billable' })),
    ).rejects.toMatchObject({ code: 'ValidationError' });
    await expect(inTransaction(t.db, (tx) => addNoSkuRule(tx, tree.resellerA.admin))).rejects.toMatchObject({ code: 'NotAuthorized' });
  });
});

describe('the ledger written by the domain services', () => {
  it('bills a customer service and a user service provisioned now in the open period', async () => {
    const c = tree.direct.customer;
    await inTransaction(t.db, async (tx) => {
      await provisionCustomerService(tx, t.admin, c, {
        service: { name: 'HE' },
        userPlans: [{ plan: { name: 'Ex10Basic' }, enabled: true }],
      });
      await provisionUserService(tx, t.admin, c, tree.direct.adminUser, { service: { name: 'HE' }, userPlans: [{ name: 'Ex10Basic' }] });
    });
    const [run] = await runBilling(t.db, t.admin, { period: 'Current' });
    const s = await billingSummary(t.db, t.admin, { endDate: run!.period.endDate, customerId: c.id, billable: true });
    expect(s.items.map((i) => [i.sku, i.lineDescription, i.previousPeriod, i.currentPeriod])).toEqual([
      ['HE-MBX-BASIC', 'Hosted Exchange, Ex10 Basic', '0', '1'],
      ['HE-ORG-BASIC', 'Hosted Exchange (Assigned to Customer)', '0', '1'],
    ]);
  });
});
