import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../../test/support/test-db.js';
import { makeResellerTree, makeTenant, resell, type ResellerTree } from '../../test/support/fixtures.js';
import { inTransaction } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { createCustomer, deleteCustomer, findCustomers, getCustomer, updateCustomer } from './customer.service.js';
import { createUser, deleteUser, findUsers, getUser, updateUser, userRoles } from './user.service.js';
import { signIn } from './sign-in/sign-in.js';
import { TEST_ADMIN } from '../../test/support/engine.js';

let t: TestContext;
let tree: ResellerTree;

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
});
afterAll(() => t.close());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

describe('customers', () => {
  it('generates the short code from the full name and suffixes it on collision', async () => {
    const first = await inTransaction(t.db, (tx) =>
      createCustomer(tx, t.admin, {
        fullname: 'Basic API Customer',
        contactName: 'Admin',
        contactEmail: 'Admin@csm.local',
        primaryDomain: 'csm.local',
      }),
    );
    const second = await inTransaction(t.db, (tx) =>
      createCustomer(tx, t.admin, { fullname: 'Blue Apple Company', contactName: 'A', contactEmail: 'a@b.c', primaryDomain: 'bac2.local' }),
    );
    expect(first.customer.name).toBe('BAC');
    expect(second.customer.name).toBe('BAC1');
    expect(first.customer.status).toBe('Requested');
    expect(first.requestId).toBeGreaterThan(0);
  });

  it('refuses an incomplete new customer with InvalidNewCustomer and the seed message, writing nothing', async () => {
    const before = (await findCustomers(t.db, t.admin)).length;
    const err = await inTransaction(t.db, (tx) => createCustomer(tx, t.admin, { fullname: 'No Contact', primaryDomain: 'x.local' })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('InvalidNewCustomer');
    expect(err.message).toBe(
      'Unable to create customer. A new customer must specify the name, fullname, contactname, contactemail and primarydomain.',
    );
    expect((await findCustomers(t.db, t.admin)).length).toBe(before);
  });

  it('keeps the whole tree as materialised paths', async () => {
    expect(tree.customerA.customer.path).toBe(`${tree.resellerA.customer.path}${tree.customerA.customer.id}/`);
    expect(tree.customerA.customer.parentId).toBe(tree.resellerA.customer.id);
  });

  it('does not let a non-reseller have customers', async () => {
    expect(
      await codeOf(
        inTransaction(t.db, (tx) =>
          createCustomer(tx, t.admin, {
            fullname: 'Sub',
            contactName: 'a',
            contactEmail: 'a@a',
            primaryDomain: 'a',
            parent: { id: tree.direct.customer.id },
          }),
        ),
      ),
    ).toBe('CustomerError');
  });

  it('a round trip of unchanged fields creates no request', async () => {
    const c = tree.direct.customer;
    const { requestId } = await inTransaction(t.db, (tx) =>
      updateCustomer(tx, t.admin, { id: c.id }, { fullname: c.fullname, contactName: c.contactName }),
    );
    expect(requestId).toBeUndefined();
  });
});

describe('users', () => {
  it('names users <name>_<code>, defaults the upn to the primary domain and makes the first user admin', async () => {
    const c = tree.customerA.customer;
    expect(tree.customerA.adminUser.name).toBe(`admin_${c.name}`);
    expect(tree.customerA.adminUser.upn).toBe(`admin@${c.primaryDomain}`);
    expect(await userRoles(t.db, tree.customerA.adminUser.id)).toEqual(['Customer Administrator']);
    expect(await userRoles(t.db, tree.resellerA.adminUser.id)).toEqual(['Reseller Administrator']);
    const { user } = await inTransaction(t.db, (tx) => createUser(tx, tree.customerA.admin, c, { name: 'User1' }));
    expect(user.name).toBe(`User1_${c.name}`);
    expect(await userRoles(t.db, user.id)).toEqual(['User']);
  });

  it('refuses to delete the last user of a customer', async () => {
    const solo = await makeTenant(t.db, t.admin, { fullname: 'Solo Customer' });
    const err = await inTransaction(t.db, (tx) => deleteUser(tx, t.admin, solo.customer, { id: solo.adminUser.id })).catch((e) => e);
    expect(err.message).toBe('Unable to delete the last user from the customer');
  });

  it('stores only a scrypt hash and authenticates by name, upn and the bare provider admin name', async () => {
    const row = await t.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', tree.customerB.adminUser.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain('Passw0rd');
    expect((await signIn(t.db, { login: tree.customerB.adminUser.upn, password: 'Passw0rd!23', address: '127.0.0.1' })).userId).toBe(
      tree.customerB.adminUser.id,
    );
    expect((await signIn(t.db, { login: TEST_ADMIN.user, password: TEST_ADMIN.password, address: '127.0.0.1' })).customerId).toBe(
      t.provider.id,
    );
    expect(await codeOf(signIn(t.db, { login: tree.customerB.adminUser.name, password: 'wrong', address: '127.0.0.1' }))).toBe(
      'NotAuthenticated',
    );
  });

  it('rejects a disabled user at once', async () => {
    const extra = await inTransaction(t.db, (tx) =>
      createUser(tx, t.admin, tree.direct.customer, { name: 'temp', password: { password: 'Temp-Passw0rd1' } }),
    );
    await inTransaction(t.db, (tx) => updateUser(tx, t.admin, tree.direct.customer, { id: extra.user.id }, { enabled: false }));
    expect(await codeOf(signIn(t.db, { login: extra.user.name, password: 'Temp-Passw0rd1', address: '127.0.0.1' }))).toBe(
      'NotAuthenticated',
    );
  });
});

describe('scoping: a sibling is indistinguishable from a missing customer', () => {
  it('reseller A sees itself and its customers only', async () => {
    const names = (await findCustomers(t.db, tree.resellerA.admin)).map((c) => c.id).sort();
    expect(names).toEqual([tree.resellerA.customer.id, tree.customerA.customer.id].sort());
  });

  it('a customer admin sees only its own customer', async () => {
    expect((await findCustomers(t.db, tree.customerA.admin)).map((c) => c.id)).toEqual([tree.customerA.customer.id]);
  });

  const reads = {
    'get customer': (c: ResellerTree) => getCustomer(t.db, c.resellerA.admin, { id: c.customerB.customer.id }),
    'get customer by name': (c: ResellerTree) => getCustomer(t.db, c.resellerA.admin, { name: c.customerB.customer.name }),
    'update customer': (c: ResellerTree) =>
      inTransaction(t.db, (tx) => updateCustomer(tx, c.resellerA.admin, { id: c.customerB.customer.id }, { fullname: 'Hacked' })),
    'delete customer': (c: ResellerTree) =>
      inTransaction(t.db, (tx) => deleteCustomer(tx, c.resellerA.admin, { id: c.customerB.customer.id })),
    'create customer under sibling': (c: ResellerTree) =>
      inTransaction(t.db, (tx) =>
        createCustomer(tx, c.resellerA.admin, {
          fullname: 'X',
          contactName: 'x',
          contactEmail: 'x@x',
          primaryDomain: 'x',
          parent: { id: c.resellerB.customer.id },
        }),
      ),
    'create user in sibling': (c: ResellerTree) =>
      inTransaction(t.db, (tx) => createUser(tx, c.resellerA.admin, { id: c.customerB.customer.id }, { name: 'intruder' })),
    'customer admin reads its reseller': (c: ResellerTree) => getCustomer(t.db, c.customerA.admin, { id: c.resellerA.customer.id }),
  };
  for (const [what, attempt] of Object.entries(reads)) {
    it(`${what} answers CustomerNotFound`, async () => {
      expect(await codeOf(attempt(tree))).toBe('CustomerNotFound');
    });
  }

  it('users of a sibling are not found even when the caller names them exactly', async () => {
    const own = await getCustomer(t.db, tree.resellerA.admin, { id: tree.customerA.customer.id });
    expect(await findUsers(t.db, tree.resellerA.admin, own)).toHaveLength(2);
    expect(await codeOf(getUser(t.db, tree.resellerA.admin, tree.customerB.customer, { id: tree.customerB.adminUser.id }))).toBe(
      'UserNotFound',
    );
  });

  it('the sibling data is unchanged after all attempts', async () => {
    const b = await getCustomer(t.db, t.admin, { id: tree.customerB.customer.id });
    expect(b.fullname).toBe('Customer Beta One');
  });
});

describe('scoping: services and locations', () => {
  it("a reseller cannot read or change the services of a sibling's customer, even when handed the customer", async () => {
    const { customerServicesOf, provisionCustomerService, deprovisionCustomerService, provisionUserService } =
      await import('../services/service-assignment.service.js');
    await resell(t.db, t.admin, tree.resellerB, ['FSS']);
    await inTransaction(t.db, (tx) =>
      provisionCustomerService(tx, t.admin, tree.customerB.customer, {
        service: { name: 'FSS' },
        properties: { FileShareServer: 'BFILE01' },
        userPlans: [{ plan: { name: 'FULL' }, enabled: true }],
      }),
    );
    const attempts = {
      'provision a customer service': () =>
        inTransaction(t.db, (tx) =>
          provisionCustomerService(tx, tree.resellerA.admin, tree.customerB.customer, { service: { name: 'HE' } }),
        ),
      'de-provision a customer service': () =>
        inTransaction(t.db, (tx) => deprovisionCustomerService(tx, tree.resellerA.admin, tree.customerB.customer, { name: 'FSS' })),
      'provision a user service': () =>
        inTransaction(t.db, (tx) =>
          provisionUserService(tx, tree.resellerA.admin, tree.customerB.customer, tree.customerB.adminUser, { service: { name: 'FSS' } }),
        ),
      'load the customer to read its services': () => getCustomer(t.db, tree.resellerA.admin, { id: tree.customerB.customer.id }),
    };
    for (const [what, attempt] of Object.entries(attempts)) expect(await codeOf(attempt()), what).toBe('CustomerNotFound');
    const services = await customerServicesOf(t.db, tree.customerB.customer);
    expect(services.map((s) => [s.service.code, s.status])).toEqual([['FSS', 'Requested']]);
  });

  it('a reseller cannot hand one of its users a service of a customer it does not own', async () => {
    const { provisionUserService } = await import('../services/service-assignment.service.js');
    expect(
      await codeOf(
        inTransaction(t.db, (tx) =>
          provisionUserService(tx, tree.resellerA.admin, tree.customerA.customer, tree.customerB.adminUser, { service: { name: 'FSS' } }),
        ),
      ),
    ).toBe('UserNotFound');
  });

  it('locations are the provider\'s: every admin reads them, only "Manage Catalog" changes them', async () => {
    const { findLocations, setLocation, deleteLocation } = await import('./location.service.js');
    await inTransaction(t.db, (tx) => setLocation(tx, t.admin, { name: 'csm.Local', description: 'Main site' }));
    expect((await findLocations(t.db, tree.customerA.admin)).map((l) => l.name)).toContain('csm.Local');
    expect(await codeOf(inTransaction(t.db, (tx) => setLocation(tx, tree.resellerA.admin, { name: 'rogue.local' })))).toBe('NotAuthorized');
    expect(await codeOf(inTransaction(t.db, (tx) => deleteLocation(tx, tree.resellerA.admin, { name: 'csm.Local' })))).toBe(
      'NotAuthorized',
    );
    expect((await findLocations(t.db, t.admin)).map((l) => l.name)).not.toContain('rogue.local');
  });
});
