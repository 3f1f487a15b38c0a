import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import type { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let t: TestContext;
let tree: ResellerTree;
let provider: ConsoleClient;
let resellerA: ConsoleClient;
let customerA: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ t, tree } = setup);
  provider = await setup.signInAdmin();
  resellerA = await setup.signIn(tree.resellerA.adminUser.name);
  customerA = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(() => setup?.close());

describe('customers in the console API', () => {
  it('shows each administrator its own part of the tree, one paged level at a time', async () => {
    const all = (await provider.get('/api/console/customers/tree')).json();
    expect(all.parent).toMatchObject({ id: t.provider.id, childrenCount: 3 });
    expect(all.children).toMatchObject({ total: 3, page: 1, pageSize: 50 });
    expect(all.children.items.map((c: { fullname: string }) => c.fullname)).toEqual(['Direct Customer', 'Reseller Alpha', 'Reseller Beta']);
    expect(all.children.items.map((c: { childrenCount: number }) => c.childrenCount)).toEqual([0, 1, 1]);
    // A page of one, then the next: "load more" under a node.
    const first = (await provider.get('/api/console/customers/tree?pageSize=1')).json().children;
    const second = (await provider.get('/api/console/customers/tree?pageSize=1&page=2')).json().children;
    expect([first.items[0].fullname, second.items[0].fullname, first.total]).toEqual(['Direct Customer', 'Reseller Alpha', 3]);
    // A node's children are read when it is opened.
    const alpha = (await provider.get(`/api/console/customers/tree?parentId=${tree.resellerA.customer.id}`)).json();
    expect(alpha.children.items).toEqual([
      expect.objectContaining({ id: tree.customerA.customer.id, name: tree.customerA.customer.name, childrenCount: 0 }),
    ]);

    const sub = (await resellerA.get('/api/console/customers/tree')).json();
    expect(sub.parent).toMatchObject({ id: tree.resellerA.customer.id, childrenCount: 1 });
    expect(sub.children.items.map((c: { id: number }) => c.id)).toEqual([tree.customerA.customer.id]);
    // Outside the caller's reach: not found, as for any typed id.
    for (const parentId of [tree.resellerB.customer.id, t.provider.id]) {
      const res = await resellerA.get(`/api/console/customers/tree?parentId=${parentId}`);
      expect(res.statusCode).toBe(404);
    }
    // A customer administrator sees its own customer and nothing below or beside it.
    const own = (await customerA.get('/api/console/customers/tree')).json();
    expect(own.parent).toMatchObject({ id: tree.customerA.customer.id, childrenCount: 0 });
    expect(own.children.total).toBe(0);
    const bad = await provider.get('/api/console/customers/tree?pageSize=1001');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('pageSize');
  });

  it('finds resellers only when asked (the parent picker)', async () => {
    const resellers = (await provider.get('/api/console/customers?isReseller=true&pageSize=100')).json();
    expect(resellers.items.map((c: { fullname: string }) => c.fullname).sort()).toEqual([
      'Reseller Alpha',
      'Reseller Beta',
      'Service Provider',
    ]);
    const others = (await provider.get('/api/console/customers?isReseller=false&pageSize=100')).json();
    expect(others.items.every((c: { isReseller: boolean }) => !c.isReseller)).toBe(true);
  });

  it('lists customers paged, searched and sorted, with parent and users count', async () => {
    const page = (await provider.get('/api/console/customers?sort=fullname&order=desc&pageSize=2')).json();
    expect(page).toMatchObject({ total: 6, page: 1, pageSize: 2 });
    expect(page.items.map((c: { fullname: string }) => c.fullname)).toEqual(['Service Provider', 'Reseller Beta']);
    const found = (await provider.get('/api/console/customers?search=alpha%20one')).json();
    expect(found.items).toEqual([
      {
        id: tree.customerA.customer.id,
        name: tree.customerA.customer.name,
        fullname: 'Customer Alpha One',
        parent: { id: tree.resellerA.customer.id, name: tree.resellerA.customer.name },
        status: expect.any(String),
        enabled: true,
        isReseller: false,
        usersCount: 1,
        billingId: null,
      },
    ]);
    // A reseller's list holds only its subtree.
    expect((await resellerA.get('/api/console/customers')).json().total).toBe(2);
  });

  it('answers bad list parameters field by field', async () => {
    const res = await provider.get('/api/console/customers?pageSize=1001');
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'ValidationError', field: 'pageSize' });
    expect((await provider.get('/api/console/customers?sort=secret')).json().error.field).toBe('sort');
    expect((await provider.get('/api/console/customers/abc')).json().error.field).toBe('id');
    expect((await provider.get('/api/console/customers/99999999999')).statusCode).toBe(400);
  });

  it('answers a sibling customer exactly like a missing one', async () => {
    const sibling = await customerA.get(`/api/console/customers/${tree.customerB.customer.id}`);
    const missing = await customerA.get('/api/console/customers/987654');
    expect(sibling.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(sibling.json().error.code).toBe(missing.json().error.code);
    expect((await customerA.get(`/api/console/customers/${tree.resellerA.customer.id}`)).statusCode).toBe(404);
    expect((await resellerA.patch(`/api/console/customers/${tree.customerB.customer.id}`, { fullname: 'Taken' })).statusCode).toBe(404);
    expect((await customerA.get(`/api/console/customers/${tree.customerB.customer.id}/service-changes`)).statusCode).toBe(404);
  });

  it('creates a customer under a reseller, edits its Additional Options, and refuses bad fields', async () => {
    const bad = await resellerA.post('/api/console/customers', {
      fullname: 'Gamma Ltd',
      contactName: 'Ann',
      contactEmail: 'not-an-email',
      primaryDomain: 'gamma.example',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ValidationError', field: 'contactEmail' });
    const missing = await resellerA.post('/api/console/customers', { fullname: 'Gamma Ltd' });
    expect(missing.json().error).toMatchObject({ field: 'contactName' });

    const created = await resellerA.post('/api/console/customers', {
      fullname: 'Gamma Ltd',
      contactName: 'Ann',
      contactEmail: 'ann@gamma.example',
      primaryDomain: 'gamma.example',
      billingId: '29683500',
    });
    expect(created.statusCode).toBe(201);
    const { customer, requestId } = created.json();
    const taken = await resellerA.post('/api/console/customers', {
      name: tree.customerA.customer.name,
      fullname: 'Gamma Two',
      contactName: 'Ann',
      contactEmail: 'ann@gamma.example',
      primaryDomain: 'gamma2.example',
    });
    expect(taken.json().error).toMatchObject({ code: 'CustomerError', field: 'name', message: expect.stringMatching(/already exists/) });
    const notReseller = await provider.post('/api/console/customers', {
      parentId: tree.customerB.customer.id,
      fullname: 'Under B',
      contactName: 'B',
      contactEmail: 'b@b.example',
      primaryDomain: 'under-b.example',
    });
    expect(notReseller.json().error).toMatchObject({ code: 'CustomerError', field: 'parentId' });
    expect(customer).toMatchObject({
      fullname: 'Gamma Ltd',
      parent: { id: tree.resellerA.customer.id },
      billingId: '29683500',
      status: 'Requested',
    });
    expect(requestId).toEqual(expect.any(Number));

    const edited = await resellerA.patch(`/api/console/customers/${customer.id}`, {
      accountCode: 'ACC-9',
      address1: '1 High St',
      properties: { Region: 'North' },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().customer).toMatchObject({ accountCode: 'ACC-9', address1: '1 High St', properties: { Region: 'North' } });
    const unchanged = await resellerA.patch(`/api/console/customers/${customer.id}`, { accountCode: 'ACC-9' });
    expect(unchanged.json().requestId).toBeNull();
    expect((await resellerA.patch(`/api/console/customers/${customer.id}`, { accountcode: 'x' })).json().error.field).toBe('accountcode');

    // A customer admin may not create customers.
    expect(
      (
        await customerA.post('/api/console/customers', {
          fullname: 'Nope',
          contactName: 'N',
          contactEmail: 'n@n.example',
          primaryDomain: 'n.example',
        })
      ).statusCode,
    ).toBe(403);
  });

  it('disables and enables, de-provisions, previews and deletes', async () => {
    const { customer } = (
      await provider.post('/api/console/customers', {
        fullname: 'Temp Co',
        contactName: 'T',
        contactEmail: 't@temp.example',
        primaryDomain: 'temp.example',
      })
    ).json();
    const disabled = await provider.post(`/api/console/customers/${customer.id}/disable`);
    expect(disabled.json().customer.enabled).toBe(false);
    expect((await provider.post(`/api/console/customers/${customer.id}/enable`)).json().customer.enabled).toBe(true);
    const deprov = await provider.post(`/api/console/customers/${customer.id}/deprovision`);
    expect(deprov.statusCode).toBe(200);
    expect(deprov.json().requestId).toEqual(expect.any(Number));

    const blocked = (await provider.get(`/api/console/customers/${tree.resellerA.customer.id}/delete-preview`)).json();
    expect(blocked.canDelete).toBe(false);
    expect(blocked.blockers[0]).toMatch(/still has \d+ customer/);
    const preview = (await provider.get(`/api/console/customers/${customer.id}/delete-preview`)).json();
    expect(preview).toMatchObject({ canDelete: true, children: 0 });
    expect(preview.effects.join(' ')).toMatch(/Billing stops/);
    expect((await provider.delete(`/api/console/customers/${tree.resellerA.customer.id}`)).json().error.code).toBe('CustomerError');
    expect((await provider.delete(`/api/console/customers/${customer.id}`)).statusCode).toBe(200);
    expect((await provider.get(`/api/console/customers/${customer.id}`)).statusCode).toBe(404);
  });

  it('serves the detail tabs: locations, approval settings, recent service changes', async () => {
    const id = tree.customerA.customer.id;
    expect((await resellerA.get(`/api/console/customers/${id}/locations`)).json()).toEqual({ current: null, items: expect.any(Array) });
    expect((await resellerA.get(`/api/console/customers/${id}/approval-settings`)).json().providers).toEqual(expect.any(Array));
    const changes = (await resellerA.get(`/api/console/customers/${id}/service-changes`)).json().items;
    expect(changes.map((c: { action: string }) => c.action)).toEqual(expect.arrayContaining(['customer_created', 'user_created']));
  });
});
