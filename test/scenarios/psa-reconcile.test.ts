import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { PSAS, type PsaUnderTest } from '../support/psa.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';

/*
 * Issue 11 §1–2: the sync reconciles every managed PSA line with what Tenantry bills in the
 * period, so a line pushed and then removed within one period goes back to 0. Real billing data
 * (ledger → billing run → billing reads), the real sync, the simulators over HTTP.
 */
let t: TestContext;
let acme: Tenant;
let gone: Tenant;
let he: number;

const mailbox = (userServiceId: number, userId: number, customerId: number, plan: 'Ex10Basic' | 'Ex10Full') => ({
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
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Reconcile', billingId: 'ACME-PSA' });
  gone = await makeTenant(t.db, t.admin, { fullname: 'Gone Reconcile', billingId: 'GONE-PSA' });
  he = (await getService(t.db, { name: 'HE' })).id;
});
afterAll(() => t.close());

const bill = (period: string, now: string) => runBilling(t.db, t.admin, { period, now: new Date(now) });

describe.each(PSAS)('reconcile, not replay: $name', ({ start }) => {
  let psa: PsaUnderTest;
  const a = () => acme.customer.id;
  const g = () => gone.customer.id;

  beforeAll(async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
    await sql`update customers set status = 'Provisioned', deleted_at = null where id = ${g()}`.execute(t.db);
    psa = await start(t.db, t.admin);
    // HE-ORG-BASIC is a catalog SKU Tenantry does not bill Acme for (a line added by hand);
    // NOT-IN-TENANTRY maps to no Tenantry SKU: the sync must never touch it.
    psa.addCompany('ACME-PSA', 'Acme', { 'HE-MBX-BASIC': 0, 'HE-MBX-FULL': 0, 'HE-ORG-BASIC': 2, 'NOT-IN-TENANTRY': 3 });
    psa.addCompany('GONE-PSA', 'Gone', { 'HE-MBX-FULL': 0, 'HE-ORG-STD': 0, 'NOT-IN-TENANTRY': 4 });
    await ledger(t.db, t.admin, [
      { at: '2024-05-02T00:00:00Z', action: 'customer_created', customerId: a() },
      { at: '2024-05-02T00:00:00Z', action: 'customer_created', customerId: g() },
      { at: '2024-06-05T09:00:00Z', action: 'user_service_added', ...mailbox(1, acme.adminUser.id, a(), 'Ex10Full') },
      { at: '2024-06-05T09:00:00Z', action: 'user_service_added', ...mailbox(2, acme.adminUser.id, a(), 'Ex10Basic') },
      { at: '2024-06-06T09:00:00Z', action: 'user_service_added', ...mailbox(3, gone.adminUser.id, g(), 'Ex10Full') },
      {
        at: '2024-06-06T09:00:00Z',
        action: 'customer_service_added',
        customerId: g(),
        serviceId: he,
        customerServiceId: 777,
        planCode: 'Std',
        planName: 'Standard',
        sku: 'HE-ORG-STD',
      },
    ]);
    await bill('2024-06-30', '2024-06-10T00:00:00Z');
  });
  afterAll(() => psa.stop());

  it('pushes the added lines and brings a hand-made line of a managed SKU to 0; an unmanaged line stays', async () => {
    const { log } = await psa.sync('2024-06-30');
    expect(psa.quantity('ACME-PSA', 'HE-MBX-FULL')).toBe(1);
    expect(psa.quantity('ACME-PSA', 'HE-MBX-BASIC')).toBe(1);
    expect(psa.quantity('ACME-PSA', 'HE-ORG-BASIC')).toBe(0);
    expect(psa.quantity('ACME-PSA', 'NOT-IN-TENANTRY')).toBe(3);
    expect(psa.quantity('GONE-PSA', 'HE-MBX-FULL')).toBe(1);
    expect(psa.quantity('GONE-PSA', 'HE-ORG-STD')).toBe(1);
    const zeroed = log.find(psa.zeroCode);
    expect(zeroed).toHaveLength(1);
    expect(zeroed[0]!.message).toContain('HE-ORG-BASIC');
    expect(zeroed[0]!.message).toMatch(/from 2\.00 to 0\.00/);
  });

  it('a line added and removed in the same period goes back to 0 on the next run', async () => {
    await ledger(t.db, t.admin, [
      { at: '2024-06-15T09:00:00Z', action: 'user_service_removed', ...mailbox(1, acme.adminUser.id, a(), 'Ex10Full'), quantity: '0' },
    ]);
    await bill('2024-06-30', '2024-06-16T00:00:00Z');
    const { log, result } = await psa.sync('2024-06-30');
    expect(psa.quantity('ACME-PSA', 'HE-MBX-FULL')).toBe(0);
    expect(psa.quantity('ACME-PSA', 'HE-MBX-BASIC')).toBe(1);
    expect(result.changes).toEqual([
      expect.objectContaining({ customerCode: acme.customer.name, sku: 'HE-MBX-FULL', action: 'zero', from: 1, to: 0 }),
    ]);
    expect(log.find(psa.zeroCode)).toHaveLength(1);
  });

  it('a customer de-provisioned in the period it was pushed: every managed line 0, between AT20 and AT21 on Autotask', async () => {
    await ledger(t.db, t.admin, [{ at: '2024-06-20T09:00:00Z', action: 'customer_deprovisioned', customerId: g(), quantity: '0' }]);
    await sql`update customers set status = 'NotProvisioned' where id = ${g()}`.execute(t.db);
    await bill('2024-06-30', '2024-06-21T00:00:00Z');
    const { log, result } = await psa.sync('2024-06-30');
    expect(psa.quantity('GONE-PSA', 'HE-MBX-FULL')).toBe(0);
    expect(psa.quantity('GONE-PSA', 'HE-ORG-STD')).toBe(0);
    expect(psa.quantity('GONE-PSA', 'NOT-IN-TENANTRY')).toBe(4);
    expect(result.changes.map((c) => [c.sku, c.to]).sort()).toEqual([
      ['HE-MBX-FULL', 0],
      ['HE-ORG-STD', 0],
    ]);
    if (psa.name === 'autotask') {
      const codes = log.codes();
      expect(codes.lastIndexOf('AT13')).toBeLessThan(codes.indexOf('AT21'));
      expect(codes.indexOf('AT13')).toBeGreaterThan(codes.indexOf('AT20'));
    }
  });

  it('a second run changes nothing', async () => {
    const writes = psa.writes();
    const { result, log } = await psa.sync('2024-06-30');
    expect(result.changes).toEqual([]);
    expect(psa.writes()).toBe(writes);
    expect(log.find(psa.zeroCode)).toEqual([]);
    expect(log.find(psa.unchangedCode).length).toBeGreaterThan(0);
  });

  it('a removal in a later period than the push brings the line to 0', async () => {
    await ledger(t.db, t.admin, [
      { at: '2024-07-03T09:00:00Z', action: 'user_service_removed', ...mailbox(2, acme.adminUser.id, a(), 'Ex10Basic'), quantity: '0' },
    ]);
    await bill('2024-07-31', '2024-07-04T00:00:00Z');
    const { result } = await psa.sync('2024-07-31');
    expect(psa.quantity('ACME-PSA', 'HE-MBX-BASIC')).toBe(0);
    expect(psa.quantity('ACME-PSA', 'NOT-IN-TENANTRY')).toBe(3);
    expect(result.changes).toEqual([expect.objectContaining({ sku: 'HE-MBX-BASIC', action: 'zero', from: 1, to: 0 })]);
  });
});
