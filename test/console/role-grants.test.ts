import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import { PASSWORD, type ResellerTree } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, setRoles, userRoles } from '../../src/tenancy/user.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';
import { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let t: TestContext;
let app: FastifyInstance;
let tree: ResellerTree;
const targets = {} as Record<'provider' | 'reseller' | 'customer', number>;
const callers = {} as Record<'provider' | 'reseller' | 'customer' | 'deputy', ConsoleClient>;

beforeAll(async () => {
  let deputy = '';
  setup = await consoleTestApp((t, tree) =>
    inTransaction(t.db, async (tx) => {
      for (const [key, customer] of [
        ['provider', t.provider],
        ['reseller', tree.resellerA.customer],
        ['customer', tree.customerA.customer],
      ] as const) {
        targets[key] = (
          await createUser(tx, t.admin, customer, { name: `target${key}`, password: { password: PASSWORD }, roles: [ROLE.user] })
        ).user.id;
      }
      deputy = (
        await createUser(tx, t.admin, tree.resellerA.customer, {
          name: 'deputy',
          password: { password: PASSWORD },
          roles: [ROLE.customerAdmin],
        })
      ).user.name;
    }),
  );
  ({ t, tree, app } = setup);
  callers.provider = await setup.signInAdmin();
  callers.reseller = await setup.signIn(tree.resellerA.adminUser.name);
  callers.customer = await setup.signIn(tree.customerA.adminUser.name);
  callers.deputy = await setup.signIn(deputy);
});
afterAll(() => setup?.close());

const [PA, RA, CA, SPD, U] = [ROLE.providerAdmin, ROLE.resellerAdmin, ROLE.customerAdmin, ROLE.developer, ROLE.user];
/** caller → target customer → roles it may grant there; other roles 403, targets out of reach 404. */
const MATRIX: Record<'provider' | 'reseller' | 'customer', Partial<Record<keyof typeof targets, string[]>>> = {
  provider: { provider: [PA, RA, CA, SPD, U], reseller: [RA, CA, SPD, U], customer: [CA, SPD, U] },
  reseller: { reseller: [RA, CA, U], customer: [CA, U] },
  customer: { customer: [CA, U] },
};

describe('role grants over the console API (PUT /api/console/users/:id/roles)', () => {
  for (const [caller, byTarget] of Object.entries(MATRIX) as [keyof typeof MATRIX, (typeof MATRIX)['provider']][]) {
    for (const target of ['provider', 'reseller', 'customer'] as const) {
      for (const role of [PA, RA, CA, SPD, U]) {
        const allowed = byTarget[target];
        const expected = allowed === undefined ? 404 : allowed.includes(role) ? 200 : 403;
        it(`${caller} admin → ${role} for a ${target} user: ${expected}`, async () => {
          const before = await userRoles(t.db, targets[target]);
          const res = await callers[caller].put(`/api/console/users/${targets[target]}/roles`, { roles: [role] });
          expect(res.statusCode, res.body).toBe(expected);
          if (expected === 200) {
            expect(await userRoles(t.db, targets[target])).toEqual([role]);
            await inTransaction(t.db, (tx) => setRoles(tx, t.admin, targets[target], [ROLE.user]));
          } else {
            expect(await userRoles(t.db, targets[target])).toEqual(before);
          }
        });
      }
    }
  }

  it('a customer admin cannot raise its own roles, by PUT roles or by PATCH', async () => {
    const me = tree.customerA.adminUser.id;
    expect((await callers.customer.put(`/api/console/users/${me}/roles`, { roles: [CA, RA] })).statusCode).toBe(403);
    expect((await callers.customer.patch(`/api/console/users/${me}`, { roles: [CA, SPD] })).statusCode).toBe(403);
    expect(await userRoles(t.db, me)).toEqual([CA]);
  });

  it('a customer administrator inside a reseller cannot demote, re-password, disable or delete the reseller administrator', async () => {
    const boss = tree.resellerA.adminUser.id;
    expect((await callers.deputy.put(`/api/console/users/${boss}/roles`, { roles: [U] })).statusCode).toBe(403);
    expect((await callers.deputy.post(`/api/console/users/${boss}/reset-password`, { password: 'Tak3n-0ver!!' })).statusCode).toBe(403);
    expect((await callers.deputy.post(`/api/console/users/${boss}/disable`)).statusCode).toBe(403);
    expect((await callers.deputy.delete(`/api/console/users/${boss}`)).statusCode).toBe(403);
    expect(await userRoles(t.db, boss)).toEqual([RA]);
    expect((await new ConsoleClient(app).signIn(tree.resellerA.adminUser.name, PASSWORD)).statusCode).toBe(200);
  });
});
