import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, PASSWORD, type Tenant } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser } from '../../src/tenancy/user.service.js';
import { startCortex, errorOf, request, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;
let tenant: Tenant;

beforeAll(async () => {
  t = await openTestContext();
  tenant = await makeTenant(t.db, t.admin, { fullname: 'Selector Probe' });
  await inTransaction(t.db, (tx) => createUser(tx, t.admin, tenant.customer, { name: 'second', password: { password: PASSWORD } }));
  api = await startCortex(t);
});
afterAll(async () => {
  await api?.close();
  await t?.close();
});

const state = async () => {
  const [users, customers, requests] = await Promise.all([
    t.db.selectFrom('users').select(['id', 'deleted_at', 'modified_at']).orderBy('id').execute(),
    t.db.selectFrom('customers').select(['id', 'deleted_at', 'modified_at']).orderBy('id').execute(),
    t.db
      .selectFrom('provisioning_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return JSON.stringify([users, customers, requests]);
};

describe('an entity selected by nothing is an error, for every entity and action, and nothing changes', () => {
  const code = () => tenant.customer.name;
  const cases: [string, string, () => string, number[]][] = [
    ['GET <customer/>', 'GET', () => '<customer/>', [1]],
    ['GET <customer><id/></customer>', 'GET', () => '<customer><id></id></customer>', [1]],
    ['DELETE <customer/>', 'DELETE', () => '<customer/>', [1]],
    ['DELETE <customer><name/></customer>', 'DELETE', () => '<customer><name></name></customer>', [1]],
    ['GET <user/>', 'GET', () => `<customer><name>${code()}</name><user/></customer>`, [15]],
    ['GET <user><id/></user>', 'GET', () => `<customer><name>${code()}</name><user><id></id></user></customer>`, [15]],
    ['GET <user><name/></user>', 'GET', () => `<customer><name>${code()}</name><user><name></name></user></customer>`, [15]],
    ['DELETE <user/>', 'DELETE', () => `<customer><name>${code()}</name><user/></customer>`, [15]],
    ['DELETE <user><id/></user>', 'DELETE', () => `<customer><name>${code()}</name><user><id></id></user></customer>`, [15]],
    ['DELETE <user><upn/></user>', 'DELETE', () => `<customer><name>${code()}</name><user><upn></upn></user></customer>`, [15]],
    ['SET <user/> (nothing to create it from)', 'SET', () => `<customer><name>${code()}</name><user/></customer>`, [15]],
    [
      'SET <user><enabled>false</enabled></user>',
      'SET',
      () => `<customer><name>${code()}</name><user><enabled>false</enabled></user></customer>`,
      [15],
    ],
    ['GET <service/> of a customer', 'GET', () => `<customer><name>${code()}</name><service/></customer>`, [21]],
    ['DELETE <service/> of a customer', 'DELETE', () => `<customer><name>${code()}</name><service/></customer>`, [21]],
    ['GET <service/> of an empty user', 'GET', () => `<customer><name>${code()}</name><user><service/></user></customer>`, [15]],
    ['GET <location/>', 'GET', () => '<location/>', [20]],
    ['DELETE <location/>', 'DELETE', () => '<location/>', [20]],
    ['GET <request/>', 'GET', () => '<request/>', [3]],
    ['GET <report/>', 'GET', () => '<report/>', [14]],
  ];
  for (const [what, action, inner, codes] of cases) {
    it(`${what} → ${codes.join(' or ')}`, async () => {
      const before = await state();
      const r = await api.post(request(action, inner()));
      expect(r.status, r.body).not.toBe(200);
      expect(codes).toContain(errorOf(r)?.id);
      expect(await state()).toBe(before);
    });
  }
});
