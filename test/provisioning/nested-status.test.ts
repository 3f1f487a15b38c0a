import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { startCortex, errorOf, request, requestIdOf, type CortexClient } from '../cortex/support.js';
import { settle, startEngine } from './support.js';

let t: TestContext;
let api: CortexClient;
let engine: ProvisioningEngine;
let tenant: Tenant;

const HE = '<service><name>HE</name><userpackage><fullname>Ex10 Basic</fullname><enabled>true</enabled></userpackage></service>';
const HE_PACKAGE = '<service><name>HE</name><userpackage><fullname>Ex10 Basic</fullname></userpackage></service>';

beforeAll(async () => {
  t = await openTestContext();
  engine = await startEngine(t.ctx);
  tenant = await makeTenant(t.db, t.admin, { fullname: 'Nested Status' });
  api = await startCortex(t);
  const id = requestIdOf(await api.post(request('SET', `<customer><name>${tenant.customer.name}</name>${HE}</customer>`)));
  await settleTree(id);
});
afterAll(async () => {
  await api?.close();
  await engine?.stop();
  await t?.close();
});

async function settleTree(id: number) {
  const ids = (
    await t.db
      .selectFrom('provisioning_requests')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', id), eb('parent_id', '=', id)]))
      .execute()
  ).map((r) => r.id);
  const grand = (await t.db.selectFrom('provisioning_requests').select('id').where('parent_id', 'in', ids).execute()).map((r) => r.id);
  return settle(t.db, [...new Set([...ids, ...grand])]);
}

/** Every entity of the customer, with its status: after the tree settles none may stay Requested or InProgress. */
async function statuses(customerId: number) {
  const [customers, users, services, userServices] = await Promise.all([
    t.db.selectFrom('customers').select(['name', 'status']).where('id', '=', customerId).execute(),
    t.db.selectFrom('users').select(['name', 'status']).where('customer_id', '=', customerId).where('deleted_at', 'is', null).execute(),
    t.db.selectFrom('customer_services').select(['id', 'status']).where('customer_id', '=', customerId).execute(),
    t.db
      .selectFrom('user_services')
      .innerJoin('users', 'users.id', 'user_services.user_id')
      .select(['users.name', 'user_services.status'])
      .where('users.customer_id', '=', customerId)
      .execute(),
  ]);
  return [
    ...customers.map((c) => `customer ${c.name}: ${c.status}`),
    ...users.map((u) => `user ${u.name}: ${u.status}`),
    ...services.map((s) => `service ${s.id}: ${s.status}`),
    ...userServices.map((u) => `user service of ${u.name}: ${u.status}`),
  ];
}

describe('every entity created in one SET ends with the status of its own request', () => {
  const cases: [string, (n: number) => string][] = [
    [
      'a new user with a user service',
      (n) => `<customer><name>${tenant.customer.name}</name><user><name>stat${n}</name>${HE_PACKAGE}</user></customer>`,
    ],
    [
      'two new users with user services',
      (n) =>
        `<customer><name>${tenant.customer.name}</name><user><name>stat${n}a</name>${HE_PACKAGE}</user><user><name>stat${n}b</name>${HE_PACKAGE}</user></customer>`,
    ],
    ['a new user alone', (n) => `<customer><name>${tenant.customer.name}</name><user><name>stat${n}</name></user></customer>`],
    [
      'an existing user given a user service',
      (n) => `<customer><name>${tenant.customer.name}</name><user><name>stat${n - 1}</name>${HE_PACKAGE}</user></customer>`,
    ],
  ];
  cases.forEach(([what, xml], i) => {
    it(what, async () => {
      const r = await api.post(request('SET', xml(100 + i * 10)));
      expect(errorOf(r)).toBeUndefined();
      const rows = await settleTree(requestIdOf(r));
      expect(rows.filter((row) => row.status === 'Failed')).toEqual([]);
      expect((await statuses(tenant.customer.id)).filter((s) => /Requested|InProgress|Pending/.test(s))).toEqual([]);
    });
  });

  it('a new customer with a service, users and user services in one SET', async () => {
    const r = await api.post(
      request(
        'SET',
        `<customer><fullname>Nested All</fullname><contactname>A</contactname><contactemail>a@nested.example</contactemail><primarydomain>nested.example</primarydomain>${HE}<user><name>first</name>${HE_PACKAGE}</user><user><name>second</name>${HE_PACKAGE}</user></customer>`,
      ),
    );
    expect(errorOf(r)).toBeUndefined();
    const rows = await settleTree(requestIdOf(r));
    expect(rows.filter((row) => row.status === 'Failed')).toEqual([]);
    const customer = await t.db.selectFrom('customers').select('id').where('fullname', '=', 'Nested All').executeTakeFirstOrThrow();
    const all = await statuses(customer.id);
    expect(all.length).toBeGreaterThanOrEqual(6);
    expect(all.filter((s) => /Requested|InProgress|Pending/.test(s))).toEqual([]);
  });
});
