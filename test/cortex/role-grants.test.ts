import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, PASSWORD, type ResellerTree, type Tenant } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, setRoles, userRoles } from '../../src/tenancy/user.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';
import { startCortex, errorOf, request, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;
let tree: ResellerTree;
/** A plain user in each of provider, reseller A and customer A: the targets of the grants. */
const targets: Record<'provider' | 'reseller' | 'customer', { customer: string; user: string; id: number }> = {} as never;
let resellerDeputy: { user: string; password: string };

const login = (tenant: Tenant) => ({ user: tenant.adminUser.name, password: PASSWORD });
const roleXml = (roles: string[]) => `<roles>${roles.map((r) => `<role><name>${r}</name></role>`).join('')}</roles>`;

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
  await inTransaction(t.db, async (tx) => {
    for (const [key, customer] of [
      ['provider', t.provider],
      ['reseller', tree.resellerA.customer],
      ['customer', tree.customerA.customer],
    ] as const) {
      const { user } = await createUser(tx, t.admin, customer, {
        name: `target${key}`,
        password: { password: PASSWORD },
        roles: [ROLE.user],
      });
      targets[key] = { customer: customer.name, user: user.name, id: user.id };
    }
    // A customer administrator inside a reseller: less power than the reseller's own administrator.
    const { user } = await createUser(tx, t.admin, tree.resellerA.customer, {
      name: 'deputy',
      password: { password: PASSWORD },
      roles: [ROLE.customerAdmin],
    });
    resellerDeputy = { user: user.name, password: PASSWORD };
  });
  api = await startCortex(t);
});
afterAll(async () => {
  await api?.close();
  await t?.close();
});

const ALL_ROLES = [ROLE.providerAdmin, ROLE.resellerAdmin, ROLE.customerAdmin, ROLE.developer, ROLE.user];
const [PA, RA, CA, SPD, U] = ALL_ROLES;

/** caller level → target customer → roles that caller may grant there (every other role is refused with code 12). */
const MATRIX: Record<string, Partial<Record<keyof typeof targets, string[]>>> = {
  provider: { provider: [PA!, RA!, CA!, SPD!, U!], reseller: [RA!, CA!, SPD!, U!], customer: [CA!, SPD!, U!] },
  reseller: { reseller: [RA!, CA!, U!], customer: [CA!, U!] },
  customer: { customer: [CA!, U!] },
};

describe('role grants over the CortexAPI: a caller grants only what it holds, only within its subtree', () => {
  const callers = {
    provider: () => ({ user: 'admin', password: 'Admin-Passw0rd!' }),
    reseller: () => login(tree.resellerA),
    customer: () => login(tree.customerA),
  };
  for (const [callerLevel, byTarget] of Object.entries(MATRIX)) {
    for (const targetLevel of ['provider', 'reseller', 'customer'] as const) {
      for (const role of ALL_ROLES) {
        const allowed = byTarget[targetLevel];
        const expected = allowed === undefined ? 'out of reach' : allowed.includes(role) ? 'granted' : 'refused';
        it(`${callerLevel} admin → ${role} for a ${targetLevel} user: ${expected}`, async () => {
          const target = targets[targetLevel];
          const before = await userRoles(t.db, target.id);
          const r = await api.post(
            request(
              'SET',
              `<customer><name>${target.customer}</name><user><name>${target.user}</name>${roleXml([role])}</user></customer>`,
            ),
            callers[callerLevel as keyof typeof callers](),
          );
          if (expected === 'granted') {
            expect(errorOf(r)).toBeUndefined();
            expect(await userRoles(t.db, target.id)).toEqual([role]);
            await inTransaction(t.db, (tx) => setRoles(tx, t.admin, target.id, [ROLE.user]));
          } else {
            // Out of reach: the customer is reported missing (34) exactly like one that does not exist.
            expect(errorOf(r)?.id).toBe(expected === 'refused' ? 12 : 34);
            expect(await userRoles(t.db, target.id)).toEqual(before);
          }
        });
      }
    }
  }
});

describe('own roles and more powerful users', () => {
  it('a customer admin cannot grant itself reseller or developer roles, and stays without "Manage Customers" and tokens', async () => {
    const me = login(tree.customerA);
    const code = tree.customerA.customer.name;
    const r = await api.post(
      request('SET', `<customer><name>${code}</name><user><name>${me.user}</name>${roleXml([CA!, RA!, SPD!])}</user></customer>`),
      me,
    );
    expect(errorOf(r)?.id).toBe(12);
    expect(await userRoles(t.db, tree.customerA.adminUser.id)).toEqual([CA]);
    const billing = await api.post(request('SET', `<customer><name>${code}</name><billtoparent>true</billtoparent></customer>`), me);
    expect(errorOf(billing)?.id).toBe(12);
  });

  it('a reseller admin cannot grant itself the developer role nor flip its own reseller flag', async () => {
    const me = login(tree.resellerA);
    const code = tree.resellerA.customer.name;
    expect(
      errorOf(
        await api.post(
          request('SET', `<customer><name>${code}</name><user><name>${me.user}</name>${roleXml([RA!, SPD!])}</user></customer>`),
          me,
        ),
      )?.id,
    ).toBe(12);
    expect(errorOf(await api.post(request('SET', `<customer><name>${code}</name><isreseller>false</isreseller></customer>`), me))?.id).toBe(
      12,
    );
    expect(
      errorOf(await api.post(request('SET', `<customer><name>${code}</name><billtoparent>true</billtoparent></customer>`), me))?.id,
    ).toBe(12);
  });

  it('a user may keep or drop its own roles within what it holds', async () => {
    const me = login(tree.customerA);
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${tree.customerA.customer.name}</name><user><name>${me.user}</name>${roleXml([CA!])}</user></customer>`,
      ),
      me,
    );
    expect(errorOf(r)).toBeUndefined();
  });

  it('a customer administrator inside a reseller cannot change, re-password, demote or delete the reseller administrator', async () => {
    const code = tree.resellerA.customer.name;
    const boss = tree.resellerA.adminUser.name;
    for (const inner of [
      roleXml([U!]),
      '<password>Tak3n-0ver!!</password>',
      '<enabled>false</enabled>',
      '<status>NotProvisioned</status>',
    ]) {
      const r = await api.post(
        request('SET', `<customer><name>${code}</name><user><name>${boss}</name>${inner}</user></customer>`),
        resellerDeputy,
      );
      expect(errorOf(r)?.id, inner).toBe(12);
    }
    expect(
      errorOf(
        await api.post(request('DELETE', `<customer><name>${code}</name><user><name>${boss}</name></user></customer>`), resellerDeputy),
      )?.id,
    ).toBe(12);
    expect(await userRoles(t.db, tree.resellerA.adminUser.id)).toEqual([RA]);
    expect((await api.post(request('GET', '<identity/>'), login(tree.resellerA))).status).toBe(200);
  });

  it('a reseller flag stays on while the reseller has customers', async () => {
    const r = await api.post(
      request('SET', `<customer><name>${tree.resellerA.customer.name}</name><isreseller>false</isreseller></customer>`),
    );
    expect(errorOf(r)?.id).toBe(1);
    const row = await t.db
      .selectFrom('customers')
      .select('is_reseller')
      .where('id', '=', tree.resellerA.customer.id)
      .executeTakeFirstOrThrow();
    expect(row.is_reseller).toBe(true);
  });
});
