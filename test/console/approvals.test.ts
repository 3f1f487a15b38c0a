import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import type { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let tree: ResellerTree;
let provider: ConsoleClient;
let approver: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ tree } = setup);
  provider = await setup.signInAdmin();
  approver = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(() => setup?.close());

describe('approvals in the console API', () => {
  it("holds a new user for the customer's managers, who see it pending and approve it with a comment", async () => {
    const customerId = tree.customerA.customer.id;
    const settings = await provider.put(`/api/console/customers/${customerId}/approval-settings`, {
      providers: [{ name: 'Workflow Managers', subscriptions: [{ target: 'users', event: 'Provision', access: 'Object' }] }],
    });
    expect(settings.statusCode).toBe(200);
    expect(settings.json().providers.find((p: { name: string }) => p.name === 'Workflow Managers').subscriptions).toEqual([
      { target: 'users', event: 'Provision', access: 'Object' },
    ]);

    const held = (await provider.post(`/api/console/customers/${customerId}/users`, { name: 'needsok' })).json();
    expect(held.user.status).toBe('Pending');
    const pending = (await approver.get('/api/console/approvals')).json().items;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      status: 'Pending',
      provisioningRequestId: held.requestId,
      description: expect.stringMatching(/Provision User/),
    });
    // The provider's admin is not asked: its own list is empty, though it may list every approval in reach.
    expect((await provider.get('/api/console/approvals')).json().items).toEqual([]);
    expect((await provider.get('/api/console/approvals?mine=false')).json().items).toHaveLength(1);

    const subscription = pending[0].subscriptions[0].id;
    const ok = await approver.post(`/api/console/approvals/${subscription}/approve`, { comment: 'Fine by me' });
    expect(ok.json()).toEqual({ requestId: held.requestId });
    expect((await approver.get(`/api/console/requests/${held.requestId}`)).json().status).toBe('Requested');
    expect((await approver.get('/api/console/approvals?all=true')).json().items[0].subscriptions[0]).toMatchObject({
      status: 'Accepted',
      reason: 'Fine by me',
    });
    const twice = await approver.post(`/api/console/approvals/${subscription}/reject`, {});
    expect(twice.statusCode).toBe(409);
  });

  it('rejects: the held request fails', async () => {
    const held = (await provider.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'refused' })).json();
    const [approval] = (await approver.get('/api/console/approvals')).json().items;
    await approver.post(`/api/console/approvals/${approval.subscriptions[0].id}/reject`, { comment: 'No' });
    expect((await approver.get(`/api/console/requests/${held.requestId}`)).json()).toMatchObject({
      status: 'Failed',
      error: 'Rejected by an approver.',
    });
  });

  it('answers unknown or malformed approval ids like missing ones', async () => {
    expect((await approver.post('/api/console/approvals/not-a-uuid/approve', {})).json().error).toMatchObject({
      code: 'ValidationError',
      field: 'subscriptionId',
    });
    expect((await approver.post('/api/console/approvals/00000000-0000-4000-8000-000000000000/approve', {})).statusCode).toBe(404);
  });
});

describe('approval subscriptions for one service in the console API', () => {
  const customerId = () => tree.direct.customer.id;
  const managers = (answer: { providers: { name: string; subscriptions: unknown[] }[] }) =>
    answer.providers.find((p) => p.name === 'Workflow Managers')!.subscriptions;
  const assign = async (code: string) => {
    const catalog: { id: number; code: string }[] = (await provider.get(`/api/console/customers/${customerId()}/services/catalog`)).json()
      .items;
    const assigned = await provider.post(`/api/console/customers/${customerId()}/services`, {
      serviceId: catalog.find((s) => s.code === code)!.id,
    });
    expect(assigned.statusCode).toBe(201);
    return assigned.json().customerService as { status: string; approvalPending: boolean };
  };

  it('holds only the subscribed service, names an unknown service as the field, and removes the subscription', async () => {
    const url = `/api/console/customers/${customerId()}/approval-settings`;
    const unknown = await provider.put(url, {
      providers: [
        {
          name: 'Workflow Managers',
          subscriptions: [
            { target: 'users', event: 'Deprovision', access: 'Object' },
            { target: 'services', service: 'No Such Service', event: 'Provision', access: 'Object' },
          ],
        },
      ],
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'ServiceNotFound', field: 'providers.0.subscriptions.1.service' });
    // Nothing half-written: the first subscription of the refused request is not stored either.
    expect(managers((await provider.get(url)).json())).toEqual([]);

    const set = await provider.put(url, {
      providers: [
        {
          name: 'Workflow Managers',
          subscriptions: [{ target: 'services', service: 'Hosted Exchange', event: 'Provision', access: 'Object' }],
        },
      ],
    });
    expect(set.statusCode).toBe(200);
    expect(managers(set.json())).toEqual([{ target: 'services', service: 'Hosted Exchange', event: 'Provision', access: 'Object' }]);
    expect(await assign('HE')).toMatchObject({ status: 'Pending', approvalPending: true });
    expect(await assign('DNS')).toMatchObject({ status: 'Requested', approvalPending: false });

    const removed = await provider.put(url, {
      providers: [
        {
          name: 'Workflow Managers',
          subscriptions: [{ target: 'services', service: 'Hosted Exchange', event: 'Provision', delete: true }],
        },
      ],
    });
    expect(removed.statusCode).toBe(200);
    expect(managers(removed.json())).toEqual([]);
    const noAccess = await provider.put(url, {
      providers: [{ name: 'Workflow Managers', subscriptions: [{ target: 'services', service: 'Hosted Exchange', event: 'Provision' }] }],
    });
    expect(noAccess.json().error).toMatchObject({ code: 'InvalidProperty', field: 'providers.0.subscriptions.0.access' });
  });
});
