import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { itemsOf } from '../support/billing.js';
import { settle, startEngine } from '../provisioning/support.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { deprovisionUserService, provisionCustomerService, provisionUserService } from '../../src/services/service-assignment.service.js';
import { retryRequest } from '../../src/provisioning/request-admin.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { billPeriods } from '../../src/billing/periods/bill-periods.js';
import { billedQuantities } from '../../src/billing/billed-quantities.js';

/*
 * Issue 11 §3 (docs/decisions.md "Failed provisioning"): a change bills from its date unless its
 * provisioning request ends Failed. The real engine runs the requests with the simulated driver.
 */
let t: TestContext;
let engine: ProvisioningEngine;
let acme: Tenant;
let end: string;

async function driver(failing: boolean): Promise<void> {
  await t.db
    .updateTable('services')
    .set({ driver: 'simulated', driver_config: JSON.stringify(failing ? { failureRate: 1, transient: false } : {}) })
    .where('code', '=', 'Citrix')
    .execute();
}

async function requestsOf(customerId: number): Promise<number[]> {
  return (await t.db.selectFrom('provisioning_requests').select('id').where('customer_id', '=', customerId).execute()).map((r) => r.id);
}

/** The billing run's items of Acme's user service, after a fresh run of the open period. */
async function citrixItems(userServiceId: number) {
  await runBilling(t.db, t.admin, {});
  return (await itemsOf(t.db, end)).filter((i) => i.user_service_id === userServiceId);
}

beforeAll(async () => {
  t = await openTestContext();
  engine = await startEngine(t.ctx);
  await driver(false);
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Failed Provisioning', billingId: 'ACME-FP' });
  await inTransaction(t.db, (tx) => provisionCustomerService(tx, t.admin, acme.customer, { service: { name: 'Citrix' } }));
  await settle(t.db, await requestsOf(acme.customer.id));
  await runBilling(t.db, t.admin, {});
  end = (await billPeriods(t.db)).find((p) => p.status === 'open')!.endDate;
});
afterAll(async () => {
  await engine?.stop();
  await t?.close();
});

describe('failed provisioning is not billed', () => {
  let userServiceId: number;
  let requestId: number;

  it('a user service whose request failed is a not-billable item "Provisioning failed", absent from what the PSA gets', async () => {
    await driver(true);
    const { requestId: id } = await inTransaction(t.db, (tx) =>
      provisionUserService(tx, t.admin, acme.customer, acme.adminUser, { service: { name: 'Citrix' } }),
    );
    requestId = id!;
    const [row] = await settle(t.db, [requestId]);
    expect(row!.status).toBe('Failed');
    userServiceId = row!.entity_id;
    const items = await citrixItems(userServiceId);
    expect(items).toEqual([
      expect.objectContaining({
        sku: 'CTX-USER',
        is_billable: false,
        override_reason: 'Provisioning failed',
        bill_config_rule_id: null,
        ended_at: null,
      }),
    ]);
    const billed = await billedQuantities(t.db, t.admin, end);
    expect(billed.filter((b) => b.customerId === acme.customer.id && b.sku === 'CTX-USER')).toEqual([]);
  });

  it('a successful retry of the same request bills it from the original date', async () => {
    const [failed] = await citrixItems(userServiceId);
    await driver(false);
    await inTransaction(t.db, (tx) => retryRequest(tx, t.admin, requestId));
    expect((await settle(t.db, [requestId]))[0]!.status).toBe('Provisioned');
    const items = await citrixItems(userServiceId);
    expect(items).toEqual([
      expect.objectContaining({
        is_billable: true,
        override_reason: null,
        service_change_id: failed!.service_change_id,
        started_at: failed!.started_at,
      }),
    ]);
    const billed = await billedQuantities(t.db, t.admin, end);
    expect(billed.find((b) => b.customerId === acme.customer.id && b.sku === 'CTX-USER')).toMatchObject({ quantity: '1' });
  });

  it('a failed de-provision leaves the service billed; its successful retry ends it from the removal date', async () => {
    await driver(true);
    const id = await inTransaction(t.db, (tx) => deprovisionUserService(tx, t.admin, acme.customer, acme.adminUser, { name: 'Citrix' }));
    expect((await settle(t.db, [id]))[0]!.status).toBe('Failed');
    const stillBilled = await citrixItems(userServiceId);
    expect(stillBilled).toEqual([expect.objectContaining({ is_billable: true, ended_at: null })]);

    await driver(false);
    await inTransaction(t.db, (tx) => retryRequest(tx, t.admin, id));
    expect((await settle(t.db, [id]))[0]!.status).toBe('NotProvisioned');
    const removal = await t.db
      .selectFrom('service_changes')
      .select('occurred_at')
      .where('user_service_id', '=', userServiceId)
      .where('action', '=', 'user_service_removed')
      .executeTakeFirstOrThrow();
    const ended = await citrixItems(userServiceId);
    expect(ended).toEqual([expect.objectContaining({ is_billable: true, ended_at: removal.occurred_at })]);
  });
});
