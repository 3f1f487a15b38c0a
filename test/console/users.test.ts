import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let t: TestContext;
let app: FastifyInstance;
let tree: ResellerTree;
let provider: ConsoleClient;
let customerA: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ t, tree, app } = setup);
  provider = await setup.signInAdmin();
  customerA = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(() => setup?.close());

describe('users in the console API', () => {
  it('creates a user as Name_CODE with a generated password shown once, who can then sign in', async () => {
    const code = tree.customerA.customer.name;
    const res = await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, {
      name: 'jsmith',
      firstName: 'Jane',
      lastName: 'Smith',
      externalEmail: 'jane@example.org',
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.user).toMatchObject({
      name: `jsmith_${code}`,
      upn: `jsmith@${tree.customerA.customer.primaryDomain}`,
      displayName: 'Jane Smith',
      roles: ['User'],
      status: 'Requested',
    });
    expect(body.generatedPassword).toMatch(/^.{16}$/);
    expect(
      (await t.db.selectFrom('users').select('password_hash').where('id', '=', body.user.id).executeTakeFirstOrThrow()).password_hash,
    ).not.toContain(body.generatedPassword);
    // "User" has no Console Access.
    expect((await new ConsoleClient(app).signIn(`jsmith_${code}`, body.generatedPassword)).statusCode).toBe(403);
  });

  it('validates the user form field by field and keeps domain messages', async () => {
    const url = `/api/console/customers/${tree.customerA.customer.id}/users`;
    expect((await customerA.post(url, { name: 'bad name' })).json().error).toMatchObject({ code: 'ValidationError', field: 'name' });
    expect((await customerA.post(url, { name: 'x', password: 'short' })).json().error).toMatchObject({ field: 'password' });
    expect((await customerA.post(url, { name: 'x', externalEmail: 'nope' })).json().error).toMatchObject({ field: 'externalEmail' });
    const dup = await customerA.post(url, { name: 'admin' });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error).toMatchObject({ code: 'InvalidUser', field: 'name', message: expect.stringMatching(/already exists/) });
  });

  it('lists users across the subtree with search, and per customer', async () => {
    const all = (await provider.get('/api/console/users?search=admin&sort=customer')).json();
    expect(all.total).toBeGreaterThanOrEqual(6);
    const mine = (await customerA.get('/api/console/users')).json();
    expect(mine.items.every((u: { customer: { id: number } }) => u.customer.id === tree.customerA.customer.id)).toBe(true);
    const perCustomer = (await provider.get(`/api/console/customers/${tree.customerB.customer.id}/users`)).json();
    expect(perCustomer.items.map((u: { name: string }) => u.name)).toEqual([tree.customerB.adminUser.name]);
  });

  it('filters users by enabled, disabled or all on the server, across the subtree and per customer', async () => {
    const customerId = tree.customerA.customer.id;
    const { user } = (await customerA.post(`/api/console/customers/${customerId}/users`, { name: 'switchedoff' })).json();
    expect((await customerA.post(`/api/console/users/${user.id}/disable`)).statusCode).toBe(200);
    const names = async (url: string) => (await customerA.get(url)).json().items.map((u: { name: string }) => u.name) as string[];

    const disabled = await names('/api/console/users?enabled=false&pageSize=100');
    expect(disabled).toEqual([user.name]);
    const enabled = await names('/api/console/users?enabled=true&pageSize=100');
    expect(enabled).toContain(tree.customerA.adminUser.name);
    expect(enabled).not.toContain(user.name);
    const all = await names('/api/console/users?pageSize=100');
    expect(all.sort()).toEqual([...enabled, ...disabled].sort());
    expect(await names(`/api/console/customers/${customerId}/users?enabled=false`)).toEqual([user.name]);
    // Counted on the server: the total is the filtered total, not the page's length.
    expect((await customerA.get('/api/console/users?enabled=false&pageSize=25')).json().total).toBe(1);
    // The provider's other tenants' disabled users are not in a customer admin's answer (scope first).
    expect(
      (await provider.get('/api/console/users?enabled=false&pageSize=100')).json().items.map((u: { name: string }) => u.name),
    ).toContain(user.name);
    const bad = await customerA.get('/api/console/users?enabled=maybe');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ValidationError', field: 'enabled' });
    await customerA.post(`/api/console/users/${user.id}/enable`);
  });

  it("hides other tenants' users exactly like missing ones", async () => {
    const sibling = await customerA.get(`/api/console/users/${tree.customerB.adminUser.id}`);
    expect(sibling.statusCode).toBe(404);
    expect(sibling.json().error.code).toBe('UserNotFound');
    expect((await customerA.get(`/api/console/users?customerId=${tree.customerB.customer.id}`)).statusCode).toBe(404);
    expect((await customerA.post(`/api/console/users/${tree.customerB.adminUser.id}/reset-password`, {})).statusCode).toBe(404);
  });

  it('edits, resets the password (shown once), disables and enables', async () => {
    const { user } = (
      await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'bob', password: 'Typed-Passw0rd' })
    ).json();
    const edited = await customerA.patch(`/api/console/users/${user.id}`, { department: 'Sales', changeAtNextLogon: true });
    expect(edited.json().user).toMatchObject({ department: 'Sales', changeAtNextLogon: true });
    const reset = await customerA.post(`/api/console/users/${user.id}/reset-password`, {});
    expect(reset.json().password).toMatch(/^.{16}$/);
    expect((await customerA.post(`/api/console/users/${user.id}/disable`)).json().user.enabled).toBe(false);
    expect((await customerA.post(`/api/console/users/${user.id}/enable`)).json().user.enabled).toBe(true);
  });

  it('grants only roles the caller holds and shows the resulting permissions', async () => {
    const roles = (await customerA.get('/api/console/roles')).json().items.map((r: { name: string }) => r.name);
    expect(roles).toContain('Customer Administrator');
    expect(roles).not.toContain('Reseller Administrator');
    const { user } = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'carol' })).json();
    const granted = await customerA.put(`/api/console/users/${user.id}/roles`, { roles: ['Customer Administrator'] });
    expect(granted.json()).toMatchObject({
      roles: ['Customer Administrator'],
      permissions: expect.arrayContaining(['Console Access', 'Manage Users']),
    });
    const refused = await customerA.put(`/api/console/users/${user.id}/roles`, { roles: ['Reseller Administrator'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.field).toBe('roles');
    expect((await customerA.put(`/api/console/users/${user.id}/roles`, { roles: ['Nobody'] })).json().error).toMatchObject({
      code: 'RoleNotFound',
      field: 'roles',
    });
  });

  it('deletes a user, but never the last one of a customer', async () => {
    const { user } = (await provider.post(`/api/console/customers/${tree.direct.customer.id}/users`, { name: 'temp' })).json();
    expect((await provider.delete(`/api/console/users/${user.id}`)).statusCode).toBe(200);
    expect((await provider.get(`/api/console/users/${user.id}`)).statusCode).toBe(404);
    const last = await provider.delete(`/api/console/users/${tree.customerB.adminUser.id}`);
    expect(last.statusCode).toBe(400);
    expect(last.json().error).toMatchObject({ code: 'InvalidUser', message: 'Unable to delete the last user from the customer' });
  });
});
