import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import type { Tenant } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { PSAS, makeResellerFamily, type PsaUnderTest, type ResellerFamily } from '../support/psa.js';
import { inTransaction } from '../../src/core/db/database.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';

/*
 * Issue 11 §5: a customer billed by its reseller has its quantities pushed to the reseller's PSA
 * company, summed per SKU with the reseller's other billed customers; moving a customer to reseller
 * billing mid-period moves the whole period's quantities and zeroes its own lines.
 */
let t: TestContext;
let direct: Tenant;
let billed: Tenant;
let mailbox: ResellerFamily['mailbox'];

beforeAll(async () => {
  t = await openTestContext();
  ({
    moving: direct,
    billed,
    mailbox,
  } = await makeResellerFamily(t.db, t.admin, {
    reseller: ['Reseller PSA', 'RES-PSA'],
    moving: ['Moving Customer', 'MOVE-PSA'],
    billed: 'Billed Customer',
  }));
});
afterAll(() => t.close());

describe.each(PSAS)('reseller billing through the PSA: $name', ({ start }) => {
  let psa: PsaUnderTest;

  beforeAll(async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: direct.customer.id }, { billToParent: false }));
    psa = await start(t.db, t.admin);
    psa.addCompany('RES-PSA', 'Reseller', { 'HE-MBX-BASIC': 0, 'HE-MBX-FULL': 0, 'NOT-IN-TENANTRY': 5 });
    psa.addCompany('MOVE-PSA', 'Moving', { 'HE-MBX-BASIC': 0 });
    await ledger(t.db, t.admin, [
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(1, direct, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(2, direct, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(3, billed, 'Ex10Basic') },
      { at: '2024-06-03T09:00:00Z', action: 'user_service_added', ...mailbox(4, billed, 'Ex10Full') },
    ]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-10T00:00:00Z') });
  });
  afterAll(() => psa.stop());

  it("a customer billed by its reseller goes to the reseller's company; a direct one to its own", async () => {
    const { log } = await psa.sync('2024-06-30');
    expect(psa.quantity('RES-PSA', 'HE-MBX-BASIC')).toBe(1);
    expect(psa.quantity('RES-PSA', 'HE-MBX-FULL')).toBe(1);
    expect(psa.quantity('RES-PSA', 'NOT-IN-TENANTRY')).toBe(5);
    expect(psa.quantity('MOVE-PSA', 'HE-MBX-BASIC')).toBe(2);
    // The billed customer has no Billing Identifier of its own and needs none.
    expect(log.entries.filter((e) => /CompanyID Missing/.test(e.message))).toEqual([]);
  });

  it('moving a customer to reseller billing mid-period moves its quantities: the reseller line sums both, its own line goes to 0', async () => {
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: direct.customer.id }, { billToParent: true }));
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-20T00:00:00Z') });
    const { result } = await psa.sync('2024-06-30');
    expect(psa.quantity('RES-PSA', 'HE-MBX-BASIC')).toBe(3);
    expect(psa.quantity('RES-PSA', 'HE-MBX-FULL')).toBe(1);
    expect(psa.quantity('MOVE-PSA', 'HE-MBX-BASIC')).toBe(0);
    expect(result.changes.map((c) => [c.billingId, c.sku, c.from, c.to]).sort()).toEqual([
      ['MOVE-PSA', 'HE-MBX-BASIC', 2, 0],
      ['RES-PSA', 'HE-MBX-BASIC', 1, 3],
    ]);
  });
});
