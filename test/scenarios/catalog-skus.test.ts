import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { freshScenario, itemsOf, ledger } from '../support/billing.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { listCatalogSkus, resetCatalogSku, setCatalogSku } from '../../src/catalog/catalog-skus.js';
import { inTransaction } from '../../src/core/db/database.js';
import { DomainError } from '../../src/core/errors.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { addRule, listRules, reorderRules, updateRule } from '../../src/billing/rules/billing-rules.js';

let t: TestContext;
let tree: ResellerTree;
let alice: User;
let he: number;
let vm: number;

const now = new Date('2024-07-10T00:00:00Z');
const mailbox = () => ({
  customerId: alice.customerId,
  userId: alice.id,
  serviceId: he,
  userServiceId: 1,
  customerServiceId: 9001,
  planCode: 'Ex10Basic',
  planName: 'Ex10 Basic',
  sku: 'HE-MBX-BASIC',
});

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
  alice = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, tree.customerA.customer, { name: 'alice' }))).user;
  he = (await getService(t.db, { name: 'HE' })).id;
  vm = (await getService(t.db, { name: 'VirtualMachine' })).id;
  await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
  await ledger(t.db, t.admin, [
    { at: '2024-05-10T09:00:00Z', action: 'user_service_added', ...mailbox() },
    {
      at: '2024-05-12T09:00:00Z',
      action: 'instance_added',
      customerId: alice.customerId,
      serviceId: vm,
      customerServiceId: 9002,
      instanceId: 77,
      instanceName: 'vm01',
      sku: null,
    },
  ]);
  // June is closed and finalized by this run; July is open.
  await runBilling(t.db, t.admin, { now });
});
afterAll(() => t.close());

const skuOf = async (endDate: string, kind: number) => (await itemsOf(t.db, endDate)).filter((i) => i.item_kind === kind).map((i) => i.sku);

describe('catalog SKUs', () => {
  it('lists every service, plan and user plan with the SKU as shipped', async () => {
    const catalog = await listCatalogSkus(t.db);
    const heEntry = catalog.find((s) => s.code === 'HE')!;
    expect(heEntry.userPlans.map((p) => [p.name, p.sku, p.defaultSku, p.changedBy])).toEqual([
      ['Ex10Basic', 'HE-MBX-BASIC', 'HE-MBX-BASIC', null],
      ['Ex10Full', 'HE-MBX-FULL', 'HE-MBX-FULL', null],
      ['Ex10Premium', 'HE-MBX-PREM', 'HE-MBX-PREM', null],
    ]);
    expect(catalog.find((s) => s.code === 'WinWebHost')!.service).toMatchObject({ sku: 'WEB-SITE', defaultSku: 'WEB-SITE' });
  });

  it("a user plan's new SKU labels the open period from the next run on; the closed period keeps its label until reprocessed", async () => {
    const entry = await inTransaction(t.db, (tx) =>
      setCatalogSku(tx, t.admin, { service: { name: 'HE' }, userPlan: { name: 'ex10basic' } }, ' 29683412 '),
    );
    expect(entry).toMatchObject({ sku: '29683412', defaultSku: 'HE-MBX-BASIC', changedBy: t.admin.userName });
    expect(await skuOf('2024-07-31', 4)).toEqual(['HE-MBX-BASIC']); // nothing re-labelled until a run

    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 4)).toEqual(['29683412']);
    expect(await skuOf('2024-06-30', 4)).toEqual(['HE-MBX-BASIC']);

    await runBilling(t.db, t.admin, { period: '2024-06-30', reprocess: true, now });
    expect(await skuOf('2024-06-30', 4)).toEqual(['29683412']);
    // The ledger keeps the SKU of the day.
    const r = await sql<{
      sku: string;
    }>`select sku from service_changes where user_id = ${alice.id} and action = 'user_service_added'`.execute(t.db);
    expect(r.rows.map((x) => x.sku)).toEqual(['HE-MBX-BASIC']);
  });

  it("an instance bills the service's SKU; clearing it bills the instance without one, and reset restores the shipped one", async () => {
    await inTransaction(t.db, (tx) => setCatalogSku(tx, t.admin, { service: { name: 'VirtualMachine' } }, 'VM-INSTANCE'));
    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 5)).toEqual(['VM-INSTANCE']);
    await inTransaction(t.db, (tx) => setCatalogSku(tx, t.admin, { service: { name: 'VirtualMachine' } }, ''));
    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 5)).toEqual([null]);

    const reset = await inTransaction(t.db, (tx) =>
      resetCatalogSku(tx, t.admin, { service: { name: 'HE' }, userPlan: { name: 'Ex10Basic' } }),
    );
    expect(reset.sku).toBe('HE-MBX-BASIC');
    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 4)).toEqual(['HE-MBX-BASIC']);
  });

  it("only the provider's admin edits SKUs, and bad values are refused without a change", async () => {
    const attempt = (caller = tree.resellerA.admin, sku: string | null = 'X') =>
      inTransaction(t.db, (tx) => setCatalogSku(tx, caller, { service: { name: 'HE' }, plan: { name: 'Basic' } }, sku)).catch(
        (e: DomainError) => e.code,
      );
    expect(await attempt()).toBe('NotAuthorized');
    expect(await attempt(t.admin, 'x'.repeat(101))).toBe('ValidationError');
    expect(await attempt(t.admin, 'A\u0007B')).toBe('ValidationError');
    const noPlan = await inTransaction(t.db, (tx) =>
      setCatalogSku(tx, t.admin, { service: { name: 'HE' }, plan: { name: 'Gold' } }, 'G'),
    ).catch((e: DomainError) => e.code);
    expect(noPlan).toBe('InvalidService');
    const two = await inTransaction(t.db, (tx) =>
      setCatalogSku(tx, t.admin, { service: { name: 'HE' }, plan: { name: 'Basic' }, userService: true }, 'G'),
    ).catch((e: DomainError) => e.code);
    expect(two).toBe('ValidationError');
    expect((await listCatalogSkus(t.db)).find((s) => s.code === 'HE')!.plans[0]!.sku).toBe('HE-ORG-BASIC');
  });
});

describe('billing rules: edit and reorder', () => {
  it("the rule first in the new order decides, and an edit keeps the rule's place", async () => {
    const a = await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'A',
        overrideReason: 'ra',
        effect: 'override_sku',
        overrideSku: 'SKU-A',
        service: { name: 'HE' },
      }),
    );
    const b = await inTransaction(t.db, (tx) =>
      addRule(tx, t.admin, {
        description: 'B',
        overrideReason: 'rb',
        effect: 'override_sku',
        overrideSku: 'SKU-B',
        service: { name: 'HE' },
      }),
    );
    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 4)).toEqual(['SKU-B']);

    expect((await inTransaction(t.db, (tx) => reorderRules(tx, t.admin, [a.id, b.id]))).map((r) => r.id)).toEqual([a.id, b.id]);
    await runBilling(t.db, t.admin, { now });
    expect(await skuOf('2024-07-31', 4)).toEqual(['SKU-A']);

    const edited = await inTransaction(t.db, (tx) =>
      updateRule(tx, t.admin, a.id, { description: 'A2', overrideReason: 'ra2', effect: 'not_billable', service: { name: 'HE' } }),
    );
    expect(edited).toMatchObject({ description: 'A2', effect: 'not_billable', overrideSku: null, processingOrder: 2 });
    await runBilling(t.db, t.admin, { now });
    const item = (await itemsOf(t.db, '2024-07-31')).find((i) => i.item_kind === 4)!;
    expect([item.is_billable, item.override_reason, item.sku]).toEqual([false, 'ra2', 'HE-MBX-BASIC']);
  });

  it('refuses an order that leaves a rule out, repeats one or names an unknown one', async () => {
    const ids = (await listRules(t.db)).map((r) => r.id);
    const codes = await Promise.all(
      [[ids[0]!], [...ids, ids[0]!], [...ids, 99999]].map((order) =>
        inTransaction(t.db, (tx) => reorderRules(tx, t.admin, order)).then(
          () => 'ok',
          (e: DomainError) => e.code,
        ),
      ),
    );
    expect(codes).toEqual(['ValidationError', 'ValidationError', 'NotFound']);
    expect(await inTransaction(t.db, (tx) => reorderRules(tx, tree.resellerA.admin, ids)).catch((e: DomainError) => e.code)).toBe(
      'NotAuthorized',
    );
  });
});
