import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { PSAS, type PsaUnderTest } from '../support/psa.js';
import { request, startCortex, type CortexClient } from '../cortex/support.js';
import { inTransaction } from '../../src/core/db/database.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { getCustomer } from '../../src/tenancy/customer.service.js';
import { psaMappingOf, setPsaMapping } from '../../src/integrations/psa/shared/psa-mapping.js';

/*
 * Issue 11 §6: several contracts/agreements of the type match a company. The customer's explicit
 * choice (CortexAPI additional property, domain/CLI setPsaMapping) wins; without one, the latest
 * start date wins and a warning names the candidates.
 */
let t: TestContext;
let api: CortexClient;
let acme: Tenant;

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Two Contracts', billingId: 'ACME-TWO' });
});
afterAll(async () => {
  await api.close();
  await t.close();
});

describe('setPsaMapping', () => {
  it('validates, stores the customer properties the CortexAPI sets, and clears with null', async () => {
    await expect(
      inTransaction(t.db, (tx) => setPsaMapping(tx, t.admin, { id: acme.customer.id }, { autotaskContractId: -3 })),
    ).rejects.toThrow(/PsaContractId must be a positive whole number/);
    const set = await inTransaction(t.db, (tx) =>
      setPsaMapping(tx, t.admin, { id: acme.customer.id }, { autotaskContractId: 42, connectwiseAgreementId: 7 }),
    );
    expect(set.mapping).toEqual({ autotaskContractId: 42, connectwiseAgreementId: 7 });
    expect((await getCustomer(t.db, t.admin, { id: acme.customer.id })).properties).toMatchObject({
      PsaContractId: '42',
      PsaAgreementId: '7',
    });
    const cleared = await inTransaction(t.db, (tx) =>
      setPsaMapping(tx, t.admin, { id: acme.customer.id }, { autotaskContractId: null, connectwiseAgreementId: null }),
    );
    expect(cleared.mapping).toEqual({ autotaskContractId: null, connectwiseAgreementId: null });
  });

  it("refuses a customer outside the caller's subtree", async () => {
    const other = await makeTenant(t.db, t.admin, { fullname: 'Other Two Contracts' });
    await expect(
      inTransaction(t.db, (tx) => setPsaMapping(tx, other.admin, { id: acme.customer.id }, { autotaskContractId: 1 })),
    ).rejects.toThrow();
  });
});

describe.each(PSAS)('explicit contract choice: $name', ({ start }) => {
  let psa: PsaUnderTest;
  let older: number;
  let newer: number;
  const warning = () => (psa.name === 'autotask' ? 'AT26' : 'CW25');
  const property = () => (psa.name === 'autotask' ? 'PsaContractId' : 'PsaAgreementId');

  beforeAll(async () => {
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
    await inTransaction(t.db, (tx) =>
      setPsaMapping(tx, t.admin, { id: acme.customer.id }, { autotaskContractId: null, connectwiseAgreementId: null }),
    );
    psa = await start(t.db, t.admin);
    [older, newer] = psa.addCompany('ACME-TWO', 'Acme Two', { 'HE-MBX-BASIC': 0 }, 2);
    const he = (await getService(t.db, { name: 'HE' })).id;
    await ledger(t.db, t.admin, [
      { at: '2024-05-02T00:00:00Z', action: 'customer_created', customerId: acme.customer.id },
      {
        at: '2024-06-05T09:00:00Z',
        action: 'user_service_added',
        customerId: acme.customer.id,
        userId: acme.adminUser.id,
        serviceId: he,
        userServiceId: 1,
        customerServiceId: 1,
        planCode: 'Ex10Basic',
        planName: 'Ex10 Basic',
        sku: 'HE-MBX-BASIC',
      },
    ]);
    await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-06-10T00:00:00Z') });
  });
  afterAll(() => psa.stop());

  it('without a choice: the latest start date wins and a warning names both candidates', async () => {
    const { log } = await psa.sync('2024-06-30');
    expect(psa.quantity('ACME-TWO', 'HE-MBX-BASIC', newer)).toBe(1);
    expect(psa.quantity('ACME-TWO', 'HE-MBX-BASIC', older)).toBe(0);
    const [w] = log.find(warning());
    expect(w!.level).toBe('Warning');
    expect(w!.message).toContain(`${older} "Acme Two 1"`);
    expect(w!.message).toContain(`${newer} "Acme Two 2"`);
  });

  it('the customer property set through the CortexAPI wins, and the warning is gone', async () => {
    const set = await api.post(
      request(
        'SET',
        `<customer><name>${acme.customer.name}</name><properties><property><name>${property()}</name><value>${older}</value></property></properties></customer>`,
      ),
    );
    expect(set.status).toBe(200);
    expect(psaMappingOf(await getCustomer(t.db, t.admin, { id: acme.customer.id }))).toEqual(
      psa.name === 'autotask'
        ? { autotaskContractId: older, connectwiseAgreementId: null }
        : { autotaskContractId: null, connectwiseAgreementId: older },
    );
    const { log } = await psa.sync('2024-06-30');
    expect(log.find(warning())).toEqual([]);
    expect(psa.quantity('ACME-TWO', 'HE-MBX-BASIC', older)).toBe(1);
    // The other contract is not the customer's any more: the sync leaves it alone.
    expect(psa.quantity('ACME-TWO', 'HE-MBX-BASIC', newer)).toBe(1);
  });
});
