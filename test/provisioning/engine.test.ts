import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import {
  provisionCustomerService,
  provisionUserService,
  deprovisionCustomerService,
} from '../../src/services/service-assignment.service.js';
import { deprovisionCustomer, reprovisionCustomer } from '../../src/provisioning/customer-lifecycle.js';
import { retryRequest } from '../../src/provisioning/request-admin.js';
import { findRequests } from '../../src/provisioning/request-list.js';
import { viewRequest, viewChildRequests } from '../../src/provisioning/request-view.js';
import { createUser, updateUser } from '../../src/tenancy/user.service.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { holdDriver, logOf, settle, startEngine, statusOf } from './support.js';

let t: TestContext;
let engine: ProvisioningEngine;
let seq = 0;

async function simulate(config: Record<string, unknown>, services?: string[]): Promise<void> {
  let q = t.db.updateTable('services').set({ driver: 'simulated', driver_config: JSON.stringify(config) });
  if (services) q = q.where('code', 'in', services);
  await q.execute();
}

/** A customer with one user holding Citrix, all provisioned. */
async function provisionedTenant(): Promise<{ tenant: Tenant; userServiceId: number; customerServiceId: number }> {
  const tenant = await makeTenant(t.db, t.admin, { fullname: `Tenant ${++seq}` });
  const ids = await inTransaction(t.db, async (tx) => {
    const cs = await provisionCustomerService(tx, t.admin, tenant.customer, { service: { name: 'Citrix' } });
    const us = await provisionUserService(tx, t.admin, tenant.customer, tenant.adminUser, { service: { name: 'Citrix' } });
    return [cs.requestId!, us.requestId!];
  });
  const all = await t.db.selectFrom('provisioning_requests').select('id').where('customer_id', '=', tenant.customer.id).execute();
  await settle(
    t.db,
    all.map((r) => r.id),
  );
  expect(ids).toHaveLength(2);
  const us = await t.db
    .selectFrom('user_services')
    .select(['id', 'customer_service_id'])
    .where('user_id', '=', tenant.adminUser.id)
    .executeTakeFirstOrThrow();
  return { tenant, userServiceId: us.id, customerServiceId: us.customer_service_id };
}

beforeAll(async () => {
  t = await openTestContext();
  engine = await startEngine(t.ctx);
});
afterAll(async () => {
  await engine?.stop();
  await t?.close();
});

describe('provisioning lifecycle', () => {
  it('takes a new customer, user and services from Requested through InProgress to Provisioned', async () => {
    await simulate({ delayMs: 150 });
    // The customer's driver step is held open until the test has read the status it runs under:
    // sampling for a 150 ms window missed it on a loaded machine (and could on a fast one).
    const fullname = `Lifecycle ${++seq}`;
    const gate = holdDriver((task) => task.entity === 'customer' && task.customer.fullname === fullname);
    let tenant: Tenant;
    try {
      tenant = await makeTenant(t.db, t.admin, { fullname });
      expect(tenant.customer.status).toBe('Requested');
      await gate.entered;
      expect(await statusOf(t.db, 'customers', tenant.customer.id)).toBe('InProgress');
    } finally {
      gate.release();
    }
    const customerRequests = await t.db
      .selectFrom('provisioning_requests')
      .select('id')
      .where('entity', '=', 'customer')
      .where('entity_id', '=', tenant.customer.id)
      .execute();
    await settle(
      t.db,
      customerRequests.map((r) => r.id),
    );
    expect(await statusOf(t.db, 'customers', tenant.customer.id)).toBe('Provisioned');
    const {
      items: [req],
    } = await findRequests(t.db, t.admin, { customerId: tenant.customer.id, topLevel: false });
    const view = await viewRequest(t.db, t.admin, req!.id, { log: true, times: true });
    await settle(t.db, [req!.id]);
    const done = await viewRequest(t.db, t.admin, req!.id, { log: true, times: true });
    expect(done.request.status).toBe('Provisioned');
    expect(done.log!.map((l) => l.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Simulated provisioning: provision user/), 'Request completed: Provisioned']),
    );
    expect(done.times!.map((x) => x.step)).toEqual(expect.arrayContaining(['queued', 'simulated delay', 'driver', 'total']));
    expect(done.times!.find((x) => x.step === 'simulated delay')!.duration_ms).toBeGreaterThanOrEqual(140);
    expect(view.request.id).toBe(req!.id);
    await simulate({});
  });

  it('answers an update of a provisioned customer and leaves a de-provisioned one not provisioned', async () => {
    const { tenant } = await provisionedTenant();
    // Read inside the update's own transaction: once it commits, the running engine may start it at once.
    const { requestId, written } = await inTransaction(t.db, async (tx) => {
      const { requestId } = await updateCustomer(tx, t.admin, { id: tenant.customer.id }, { contactName: 'New Contact' });
      return { requestId, written: await statusOf(tx, 'customers', tenant.customer.id) };
    });
    expect(written).toBe('Requested');
    await settle(t.db, [requestId!]);
    expect(await statusOf(t.db, 'customers', tenant.customer.id)).toBe('Provisioned');
  });
});

describe('dependency order', () => {
  it('de-provisions a customer: user services, then users, then customer services, then the customer; re-provisions parent first', async () => {
    await simulate({ delayMs: 20 });
    const { tenant, userServiceId, customerServiceId } = await provisionedTenant();
    const second = await inTransaction(t.db, (tx) =>
      createUser(tx, t.admin, tenant.customer, { name: 'second', password: { password: 'Passw0rd!23' } }),
    );
    await settle(t.db, [second.requestId]);
    const before = await t.db.selectFrom('service_changes').select('action').where('customer_id', '=', tenant.customer.id).execute();
    // Read inside the de-provisioning's own transaction: once it commits, the running engine may release its first children at once.
    const { requestId, held } = await inTransaction(t.db, async (tx) => {
      const { requestId } = await deprovisionCustomer(tx, t.admin, { id: tenant.customer.id });
      return { requestId, held: await statusOf(tx, 'user_services', userServiceId) };
    });
    expect(held).toBe('Pending');
    const children = await viewChildRequests(t.db, t.admin, requestId!);
    expect(children.map((c) => [c.request.entity, c.request.sequence])).toEqual([
      ['user_service', 1],
      ['user', 2],
      ['user', 2],
      ['customer_service', 3],
    ]);
    const rows = await settle(t.db, [requestId!, ...children.map((c) => c.request.id)]);
    expect(rows.every((r) => r.status === 'NotProvisioned')).toBe(true);
    const bySeq = (s: number) => rows.filter((r) => r.parent_id === requestId && r.sequence === s);
    const lastEnd = (rs: typeof rows) => Math.max(...rs.map((r) => r.finished_at!.getTime()));
    const firstStart = (rs: typeof rows) => Math.min(...rs.map((r) => r.started_at!.getTime()));
    expect(lastEnd(bySeq(1))).toBeLessThanOrEqual(firstStart(bySeq(2)));
    expect(lastEnd(bySeq(2))).toBeLessThanOrEqual(firstStart(bySeq(3)));
    const parentRun = await t.db
      .selectFrom('request_log')
      .select('at')
      .where('request_id', '=', requestId!)
      .where('message', 'like', 'Attempt 1%')
      .executeTakeFirstOrThrow();
    expect(lastEnd(bySeq(3))).toBeLessThanOrEqual(parentRun.at.getTime());
    for (const [table, id] of [
      ['customers', tenant.customer.id],
      ['users', tenant.adminUser.id],
      ['customer_services', customerServiceId],
      ['user_services', userServiceId],
    ] as const) {
      expect(await statusOf(t.db, table, id), table).toBe('NotProvisioned');
    }
    const ledger = await t.db
      .selectFrom('service_changes')
      .select(['action', 'user_service_id'])
      .where('customer_id', '=', tenant.customer.id)
      .orderBy('id')
      .execute();
    expect(ledger.slice(before.length)).toEqual([
      { action: 'user_service_removed', user_service_id: userServiceId },
      { action: 'customer_deprovisioned', user_service_id: null },
    ]);

    const again = await inTransaction(t.db, (tx) => reprovisionCustomer(tx, t.admin, { id: tenant.customer.id }));
    const reChildren = await viewChildRequests(t.db, t.admin, again.requestId!);
    const reRows = await settle(t.db, [again.requestId!, ...reChildren.map((c) => c.request.id)]);
    const parent = reRows.find((r) => r.id === again.requestId)!;
    const parentDone = await t.db
      .selectFrom('request_log')
      .select('at')
      .where('request_id', '=', parent.id)
      .where('message', 'like', 'Simulated provisioning: provision customer % done%')
      .executeTakeFirstOrThrow();
    for (const c of reRows.filter((r) => r.parent_id === parent.id))
      expect(c.started_at!.getTime()).toBeGreaterThanOrEqual(parentDone.at.getTime());
    expect(await statusOf(t.db, 'customers', tenant.customer.id)).toBe('Provisioned');
    expect(await statusOf(t.db, 'users', tenant.adminUser.id)).toBe('Provisioned');
    expect(await statusOf(t.db, 'user_services', userServiceId)).toBe('NotProvisioned');
    const last = await t.db
      .selectFrom('service_changes')
      .select('action')
      .where('customer_id', '=', tenant.customer.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(last.action).toBe('customer_reprovisioned');
    await simulate({});
  });

  it('de-provisions a customer service after the services of its users', async () => {
    const { tenant, userServiceId, customerServiceId } = await provisionedTenant();
    const requestId = await inTransaction(t.db, (tx) => deprovisionCustomerService(tx, t.admin, tenant.customer, { name: 'Citrix' }));
    const children = await viewChildRequests(t.db, t.admin, requestId);
    expect(children.map((c) => [c.request.entity, c.request.entity_id])).toEqual([['user_service', userServiceId]]);
    const rows = await settle(t.db, [requestId, children[0]!.request.id]);
    expect(rows[1]!.finished_at!.getTime()).toBeLessThanOrEqual((await logTime(requestId, 'Attempt 1%')).getTime());
    expect(await statusOf(t.db, 'customer_services', customerServiceId)).toBe('NotProvisioned');
  });

  it('runs requests for one entity in the order they were made, and a user after its customer', async () => {
    await simulate({ delayMs: 30 });
    const tenant = await makeTenant(t.db, t.admin, { fullname: `Order ${++seq}` });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { requestId } = await inTransaction(t.db, (tx) =>
        updateUser(tx, t.admin, tenant.customer, { id: tenant.adminUser.id }, { department: `D${i}` }),
      );
      ids.push(requestId!);
    }
    const all = await t.db
      .selectFrom('provisioning_requests')
      .select('id')
      .where('customer_id', '=', tenant.customer.id)
      .orderBy('id')
      .execute();
    const rows = await settle(
      t.db,
      all.map((r) => r.id),
    );
    const customerReq = rows.find((r) => r.entity === 'customer')!;
    const userRows = rows.filter((r) => r.entity === 'user');
    expect(userRows.map((r) => r.id)).toEqual([...userRows.map((r) => r.id)].sort((a, b) => a - b));
    for (const u of userRows) expect(u.started_at!.getTime()).toBeGreaterThanOrEqual(customerReq.finished_at!.getTime());
    for (let i = 1; i < userRows.length; i++)
      expect(userRows[i]!.started_at!.getTime()).toBeGreaterThanOrEqual(userRows[i - 1]!.finished_at!.getTime());
    await simulate({});
  });
});

async function logTime(requestId: number, like: string): Promise<Date> {
  return (
    await t.db
      .selectFrom('request_log')
      .select('at')
      .where('request_id', '=', requestId)
      .where('message', 'like', like)
      .executeTakeFirstOrThrow()
  ).at;
}

describe('failures and retries', () => {
  it('retries transient faults with backoff and succeeds', async () => {
    // seed 3 with failureRate 0.5: find a request that fails its first attempt and then succeeds.
    await simulate({ failureRate: 0.5, seed: 3 });
    const tenant = await makeTenant(t.db, t.admin, { fullname: `Flaky ${++seq}` });
    const all = await t.db.selectFrom('provisioning_requests').select('id').where('customer_id', '=', tenant.customer.id).execute();
    const rows = await settle(
      t.db,
      all.map((r) => r.id),
    );
    await simulate({});
    const retried = rows.filter((r) => r.attempts > 1 && r.status === 'Provisioned');
    expect(retried.length).toBeGreaterThan(0);
    expect((await logOf(t.db, retried[0]!.id)).some((l) => /^warning: Attempt 1 failed: .*retrying in/.test(l))).toBe(true);
    expect(rows.every((r) => r.status === 'Provisioned' || r.attempts === 5)).toBe(true);
  });

  it('fails after the configured attempts with the error in its log; a failed child fails its parent; retry resumes', async () => {
    const { tenant, customerServiceId } = await provisionedTenant();
    await simulate({ failureRate: 1 }, ['Citrix']);
    const requestId = await inTransaction(t.db, (tx) => deprovisionCustomerService(tx, t.admin, tenant.customer, { name: 'Citrix' }));
    const [child] = await viewChildRequests(t.db, t.admin, requestId);
    const rows = await settle(t.db, [requestId, child!.request.id]);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['Failed', 0],
      ['Failed', 5],
    ]);
    expect(rows[1]!.error).toMatch(/transient failure.*gave up after 5 attempts/);
    expect(rows[0]!.error).toBe(`Child request ${child!.request.id} failed: ${rows[1]!.error}`);
    const childLog = await logOf(t.db, child!.request.id);
    expect(childLog.filter((l) => l.startsWith('warning: Attempt'))).toHaveLength(4);
    expect(childLog.at(-1)).toMatch(/^error: .*gave up after 5 attempts/);
    expect(await statusOf(t.db, 'customer_services', customerServiceId)).toBe('Failed');
    expect(await statusOf(t.db, 'user_services', child!.request.entity_id)).toBe('Failed');

    await simulate({}, ['Citrix']);
    expect(await inTransaction(t.db, (tx) => retryRequest(tx, t.admin, requestId))).toEqual([requestId, child!.request.id]);
    const after = await settle(t.db, [requestId, child!.request.id]);
    expect(after.map((r) => r.status)).toEqual(['NotProvisioned', 'NotProvisioned']);
    expect(await statusOf(t.db, 'customer_services', customerServiceId)).toBe('NotProvisioned');
    await expect(inTransaction(t.db, (tx) => retryRequest(tx, t.admin, requestId))).rejects.toThrow(/has not failed/);
  });

  it('fails at once on a permanent driver error', async () => {
    await simulate({ failureRate: 1, transient: false });
    const tenant = await makeTenant(t.db, t.admin, { fullname: `Broken ${++seq}` });
    const all = await t.db.selectFrom('provisioning_requests').select('id').where('customer_id', '=', tenant.customer.id).execute();
    const rows = await settle(
      t.db,
      all.map((r) => r.id),
    );
    await simulate({});
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['Failed', 1],
      ['Failed', 1],
    ]);
    expect(await statusOf(t.db, 'customers', tenant.customer.id)).toBe('Failed');
  });

  it('hides requests outside the caller\u2019s subtree', async () => {
    const a = await makeTenant(t.db, t.admin, { fullname: `Scope A ${++seq}` });
    const b = await makeTenant(t.db, t.admin, { fullname: `Scope B ${seq}` });
    const {
      items: [reqB],
    } = await findRequests(t.db, t.admin, { customerId: b.customer.id });
    await expect(viewRequest(t.db, a.admin, reqB!.id)).rejects.toMatchObject({ code: 'RequestNotFound' });
    const { items } = await findRequests(t.db, a.admin, { topLevel: false, pageSize: 500 });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((r) => r.customer.name === a.customer.name)).toBe(true);
  });
});

describe('grouped requests', () => {
  it('runs the children of a batch one after another and completes the batch', async () => {
    const { groupRequests } = await import('../../src/provisioning/requests.js');
    const tenant = await makeTenant(t.db, t.admin, { fullname: `Batch ${++seq}` });
    // Read inside the batch's own transaction: once it commits, the running engine may release its first child at once.
    const { requestId, children } = await inTransaction(t.db, async (tx) => {
      const { requestId } = await groupRequests(tx, t.admin, async () => {
        await updateCustomer(tx, t.admin, { id: tenant.customer.id }, { contactName: 'Batch Contact' });
        await updateUser(tx, t.admin, tenant.customer, { id: tenant.adminUser.id }, { department: 'Batch' });
      });
      return { requestId, children: await viewChildRequests(tx, t.admin, requestId!) };
    });
    expect(children.map((c) => c.request.status)).toEqual(['Pending', 'Pending']);
    const rows = await settle(t.db, [requestId!, ...children.map((c) => c.request.id)]);
    expect(rows.map((r) => r.status)).toEqual(['Provisioned', 'Provisioned', 'Provisioned']);
  });
});
