import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import type { Tenant } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { PSAS, makeResellerFamily, type PsaUnderTest, type ResellerFamily } from '../support/psa.js';
import { inTransaction } from '../../src/core/db/database.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { autotaskTask } from '../../src/jobs/tasks/autotask.task.js';
import { connectWiseTask } from '../../src/jobs/tasks/connectwise.task.js';
import { checkParameters, parseParameters } from '../../src/jobs/parameters.js';
import { billingSummarySource } from '../../src/integrations/psa/shared/billing-source.js';
import { changeKey } from '../../src/integrations/psa/shared/sync-model.js';

/*
 * Issue 11 §5, job parameter ResellerLinesPerCustomer: a reseller's contract / agreement gets one
 * line per billed customer and SKU, its description naming the customer, next to the reseller's
 * own (summed) line; the real sync clients talk to the simulators over HTTP.
 */
let t: TestContext;
let reseller: Tenant;
let moving: Tenant;
let billed: Tenant;
let mailbox: ResellerFamily['mailbox'];

beforeAll(async () => {
  t = await openTestContext();
  ({ reseller, moving, billed, mailbox } = await makeResellerFamily(t.db, t.admin, {
    reseller: ['Reseller Lines', 'RES-PC'],
    moving: ['Moving Lines', 'MOVE-PC'],
    billed: 'Billed Lines',
  }));
});
afterAll(() => t.close());

const PER_CUSTOMER = { ResellerLinesPerCustomer: 'True', AllowAtriaCreateItems: 'True', AllowAtriaCreateAdditions: 'True' };
const SUMMED = { ...PER_CUSTOMER, ResellerLinesPerCustomer: 'False' };
const marker = (tenant: Tenant) => `${tenant.customer.fullname} [customer ${tenant.customer.name}]`;

describe.each(PSAS)('reseller lines per customer: $name', ({ start }) => {
  let psa: PsaUnderTest;
  /** The reseller's lines of a SKU as [whose, units]: 'own' for its unmarked line, else the customer's code. */
  const resellerLines = (sku: string) =>
    psa
      .lines('RES-PC', sku)
      .map((l) => [/\[customer ([^\]]+)\]$/.exec(l.description)?.[1] ?? 'own', l.quantity])
      .sort();

  beforeAll(async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
    await inTransaction(t.db, async (tx) => {
      await updateCustomer(tx, t.admin, { id: moving.customer.id }, { billToParent: false });
      await updateCustomer(tx, t.admin, { id: billed.customer.id }, { billToParent: true });
    });
    psa = await start(t.db, t.admin);
    psa.addCompany('RES-PC', 'Reseller', { 'HE-MBX-BASIC': 0, 'HE-MBX-FULL': 0, 'NOT-IN-TENANTRY': 5 });
    psa.addCompany('MOVE-PC', 'Moving', { 'HE-MBX-BASIC': 0 });
    await ledger(t.db, t.admin, [
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(1, reseller, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(2, moving, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(3, moving, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(4, billed, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(5, billed, 'Ex10Full') },
    ]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-10T00:00:00Z') });
  });
  afterAll(() => psa.stop());

  it("creates a line per billed customer naming it, next to the reseller's own line; other lines are untouched", async () => {
    const { result, log } = await psa.sync('2024-06-30', PER_CUSTOMER);
    expect(resellerLines('HE-MBX-BASIC')).toEqual([
      [billed.customer.name, 1],
      ['own', 1],
    ]);
    expect(resellerLines('HE-MBX-FULL')).toEqual([
      [billed.customer.name, 1],
      ['own', 0],
    ]);
    expect(psa.lines('RES-PC', 'HE-MBX-FULL').find((l) => l.quantity === 1)!.description).toContain(marker(billed));
    expect(psa.quantity('RES-PC', 'NOT-IN-TENANTRY')).toBe(5);
    expect(psa.quantity('MOVE-PC', 'HE-MBX-BASIC')).toBe(2);
    // The diff and the log name the customer each new line is for.
    expect(
      result.changes
        .filter((c) => c.billedFor)
        .map((c) => [c.sku, c.billedFor, c.action, c.to])
        .sort(),
    ).toEqual([
      ['HE-MBX-BASIC', billed.customer.name, 'create', 1],
      ['HE-MBX-FULL', billed.customer.name, 'create', 1],
    ]);
    expect(result.changes.filter((c) => c.billedFor).every((c) => c.line.includes(marker(billed)))).toBe(true);
    expect(log.entries.filter((e) => e.message.includes(marker(billed))).length).toBeGreaterThanOrEqual(2);
  });

  it('a second run finds every line again and changes nothing', async () => {
    const writes = psa.writes();
    const { result, log } = await psa.sync('2024-06-30', PER_CUSTOMER);
    expect(result.changes).toEqual([]);
    expect(psa.writes()).toBe(writes);
    expect(log.entries.filter((e) => e.code === psa.unchangedCode).length).toBeGreaterThanOrEqual(3);
  });

  it("a customer moving from direct to reseller billing mid-period gets its own line on the reseller's contract; its company's line goes to 0", async () => {
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: moving.customer.id }, { billToParent: true }));
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-20T00:00:00Z') });
    const { result } = await psa.sync('2024-06-30', PER_CUSTOMER);
    expect(resellerLines('HE-MBX-BASIC')).toEqual(
      [
        [billed.customer.name, 1],
        [moving.customer.name, 2],
        ['own', 1],
      ].sort(),
    );
    expect(psa.quantity('MOVE-PC', 'HE-MBX-BASIC')).toBe(0);
    expect(result.changes.map((c) => [c.billingId, c.sku, c.billedFor ?? '', c.from, c.to]).sort()).toEqual([
      ['MOVE-PC', 'HE-MBX-BASIC', '', 2, 0],
      ['RES-PC', 'HE-MBX-BASIC', moving.customer.name, 0, 2],
    ]);
  });

  it('turning the parameter off sums into the reseller line and zeroes the per-customer lines; on again restores them without duplicates', async () => {
    await psa.sync('2024-06-30', SUMMED);
    expect(resellerLines('HE-MBX-BASIC')).toEqual(
      [
        [billed.customer.name, 0],
        [moving.customer.name, 0],
        ['own', 4],
      ].sort(),
    );
    expect(resellerLines('HE-MBX-FULL')).toEqual([
      [billed.customer.name, 0],
      ['own', 1],
    ]);
    await psa.sync('2024-06-30', PER_CUSTOMER);
    expect(resellerLines('HE-MBX-BASIC')).toEqual(
      [
        [billed.customer.name, 1],
        [moving.customer.name, 2],
        ['own', 1],
      ].sort(),
    );
    expect(resellerLines('HE-MBX-FULL')).toEqual([
      [billed.customer.name, 1],
      ['own', 0],
    ]);
    expect(psa.quantity('RES-PC', 'NOT-IN-TENANTRY')).toBe(5);
  });

  it('a customer leaving reseller billing has its per-customer line reconciled to 0', async () => {
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: billed.customer.id }, { billToParent: false }));
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-25T00:00:00Z') });
    const { result } = await psa.sync('2024-06-30', PER_CUSTOMER);
    expect(resellerLines('HE-MBX-BASIC')).toEqual(
      [
        [billed.customer.name, 0],
        [moving.customer.name, 2],
        ['own', 1],
      ].sort(),
    );
    expect(resellerLines('HE-MBX-FULL')).toEqual([
      [billed.customer.name, 0],
      ['own', 0],
    ]);
    const zeroed = result.changes.filter((c) => c.billingId === 'RES-PC' && c.action === 'zero');
    expect(zeroed.map((c) => [c.sku, c.billedFor?.toLowerCase(), c.from]).sort()).toEqual([
      ['HE-MBX-BASIC', billed.customer.name.toLowerCase(), 1],
      ['HE-MBX-FULL', billed.customer.name.toLowerCase(), 1],
    ]);
  });
});

describe('the ResellerLinesPerCustomer job parameter', () => {
  const tasks = [
    autotaskTask({ source: () => billingSummarySource(t.db, t.admin) }),
    connectWiseTask({ source: () => billingSummarySource(t.db, t.admin) }),
  ];

  it.each(tasks.map((task) => [task.id, task] as const))(
    '%s: defaults to "False", takes True/False or a boolean, refuses anything else by name',
    (_, task) => {
      expect(parseParameters(task.parameters, {}).ResellerLinesPerCustomer).toBe('False');
      expect(parseParameters(task.parameters, { resellerlinespercustomer: 'TRUE' }).ResellerLinesPerCustomer).toBe('True');
      expect(parseParameters(task.parameters, { ResellerLinesPerCustomer: false }).ResellerLinesPerCustomer).toBe(false);
      for (const bad of ['yes', 1, null, ['True']]) {
        expect(() => parseParameters(task.parameters, { ResellerLinesPerCustomer: bad })).toThrow(
          /ResellerLinesPerCustomer must be "True" or "False"/,
        );
      }
      expect(checkParameters(task.parameters, { ResellerLinesPerCustomer: 'maybe' }).errors).toEqual([
        { field: 'ResellerLinesPerCustomer', message: expect.stringMatching(/must be "True" or "False"/) },
      ]);
    },
  );

  it('an approval tells per-customer lines of one SKU apart', () => {
    const change = { billingId: 'RES-PC', sku: 'HE-MBX-BASIC', from: 0, to: 1 };
    const keys = new Set([changeKey(change), changeKey({ ...change, billedFor: 'BL' }), changeKey({ ...change, billedFor: 'ML' })]);
    expect(keys.size).toBe(3);
    expect(changeKey({ ...change, billedFor: 'bl' })).toBe(changeKey({ ...change, billedFor: 'BL' }));
  });
});
