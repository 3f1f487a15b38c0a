import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import type { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let tree: ResellerTree;
let provider: ConsoleClient;
let direct: ConsoleClient;
let customerA: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ tree } = setup);
  provider = await setup.signInAdmin();
  direct = await setup.signIn(tree.direct.adminUser.name);
  customerA = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(() => setup?.close());

type Offer = {
  id: number;
  code: string;
  packages: { id: number; name: string }[];
  userPlans: { id: number; name: string }[];
  multiInstance: boolean;
};

describe('services in the console API', () => {
  let he: Offer;
  let crm: Offer;
  const customerId = () => tree.direct.customer.id;

  it('offers the catalog a customer may be given, with packages and user plans', async () => {
    const items: Offer[] = (await direct.get(`/api/console/customers/${customerId()}/services/catalog`)).json().items;
    he = items.find((s) => s.code === 'HE')!;
    crm = items.find((s) => s.code === 'CRM2011')!;
    expect(he.packages.map((p) => p.name)).toEqual(['Basic', 'Standard']);
    expect(he.userPlans.map((p) => p.name)).toEqual(['Ex10Basic', 'Ex10Full', 'Ex10Premium']);
    expect(crm.multiInstance).toBe(true);
    // Reseller A resells nothing yet, so its customer is offered nothing.
    expect((await customerA.get(`/api/console/customers/${tree.customerA.customer.id}/services/catalog`)).json().items).toEqual([]);
  });

  it('assigns HE with a package and a limited user plan, gives a user a mailbox, and enforces the limit', async () => {
    const basic = he.userPlans.find((p) => p.name === 'Ex10Basic')!;
    const assigned = await direct.post(`/api/console/customers/${customerId()}/services`, {
      serviceId: he.id,
      packageId: he.packages[0]!.id,
      userPlans: [{ planId: basic.id, enabled: true, userLimit: 1 }],
    });
    expect(assigned.statusCode).toBe(201);
    expect(assigned.json().customerService).toMatchObject({
      service: { code: 'HE' },
      package: { name: 'Basic' },
      userPlans: [{ plan: { name: 'Ex10Basic' }, enabled: true, userLimit: 1, used: 0 }],
    });

    const mailbox = await direct.post(`/api/console/users/${tree.direct.adminUser.id}/services`, {
      serviceId: he.id,
      userPlanIds: [basic.id],
      properties: { PrimarySmtpAddress: 'admin@direct.example' },
    });
    expect(mailbox.statusCode).toBe(201);
    expect(mailbox.json().items).toEqual([
      expect.objectContaining({
        service: expect.objectContaining({ code: 'HE' }),
        userPlan: expect.objectContaining({ name: 'Ex10Basic' }),
        properties: { PrimarySmtpAddress: 'admin@direct.example' },
      }),
    ]);

    const other = (await direct.post(`/api/console/customers/${customerId()}/users`, { name: 'second' })).json().user;
    const over = await direct.post(`/api/console/users/${other.id}/services`, { serviceId: he.id, userPlanIds: [basic.id] });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatchObject({
      code: 'InvalidService',
      field: 'userPlanIds',
      message: expect.stringMatching(/user limit \(1\) of user plan 'Ex10 Basic' has been reached/),
    });

    const listed = (await direct.get(`/api/console/customers/${customerId()}/services`)).json().items;
    expect(listed[0]).toMatchObject({ usersWithService: 1, userPlans: [{ used: 1 }] });
  });

  it('changes the package and the user plan, then removes the user service', async () => {
    const changed = await direct.patch(`/api/console/customers/${customerId()}/services/${he.id}`, {
      packageId: he.packages[1]!.id,
      userPlans: [{ planId: he.userPlans[1]!.id, enabled: true }],
    });
    expect(changed.json().customerService.package.name).toBe('Standard');
    const full = await direct.patch(`/api/console/users/${tree.direct.adminUser.id}/services/${he.id}`, {
      userPlanIds: [he.userPlans[1]!.id],
    });
    expect(full.statusCode).toBe(200);
    expect(full.json().items[0].userPlan.name).toBe('Ex10Full');
    expect((await direct.delete(`/api/console/users/${tree.direct.adminUser.id}/services/${he.id}`)).json().requestId).toEqual(
      expect.any(Number),
    );
  });

  it('ties a multi-instance service of a user to an instance', async () => {
    await direct.post(`/api/console/customers/${customerId()}/services`, { serviceId: crm.id });
    const inst = await direct.post(`/api/console/customers/${customerId()}/services/${crm.id}/instances`, {
      name: 'Site01',
      properties: { OrganizationName: 'Site 01' },
    });
    expect(inst.statusCode).toBe(201);
    const tied = await direct.post(`/api/console/users/${tree.direct.adminUser.id}/services`, {
      serviceId: crm.id,
      userPlanIds: [crm.userPlans[0]!.id],
      instances: ['Site01'],
    });
    expect(tied.statusCode).toBe(201);
    expect(tied.json().items[0].instances).toEqual([{ id: expect.any(Number), name: 'Site01' }]);
    const unknown = await direct.post(`/api/console/users/${tree.direct.adminUser.id}/services`, {
      serviceId: crm.id,
      instances: ['Nope'],
    });
    expect(unknown.json().error).toMatchObject({
      code: 'InvalidService',
      field: 'instances',
      message: expect.stringMatching(/Instance 'Nope'/),
    });
    const cs = (await direct.get(`/api/console/customers/${customerId()}/services`))
      .json()
      .items.find((s: { service: { code: string } }) => s.service.code === 'CRM2011');
    expect(cs.instances.map((i: { name: string }) => i.name)).toEqual(['Site01']);
  });

  it('validates service bodies and hides other tenants', async () => {
    expect(
      (await direct.post(`/api/console/customers/${customerId()}/services`, { serviceId: he.id, plan: 'x' })).json().error,
    ).toMatchObject({ code: 'ValidationError', field: 'plan' });
    expect((await direct.post(`/api/console/customers/${customerId()}/services`, {})).json().error).toMatchObject({ field: 'serviceId' });
    expect(
      (
        await direct.post(`/api/console/customers/${customerId()}/services`, {
          serviceId: he.id,
          userPlans: [{ planId: 1, enabled: true, userLimit: -1 }],
        })
      ).json().error,
    ).toMatchObject({ field: 'userPlans.0.userLimit' });
    expect((await customerA.get(`/api/console/customers/${customerId()}/services`)).statusCode).toBe(404);
    expect((await customerA.get(`/api/console/users/${tree.direct.adminUser.id}/services`)).statusCode).toBe(404);
    expect((await provider.delete(`/api/console/customers/${customerId()}/services/${he.id}`)).statusCode).toBe(200);
  });
});
