import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import type { CustomerPlan, Service, UserPlan } from '../../catalog/catalog.service.js';
import { getCustomer } from '../../tenancy/customer.service.js';
import { getUserById } from '../../tenancy/user-directory.js';
import { groupRequests } from '../../provisioning/requests.js';
import { catalogFor } from '../../services/customer-catalog.js';
import {
  customerServicesOf,
  deprovisionCustomerService,
  deprovisionUserService,
  provisionCustomerService,
  provisionUserService,
  userServicesOf,
  type CustomerServiceInput,
  type CustomerServiceView,
  type UserServiceView,
} from '../../services/service-assignment.service.js';
import {
  deleteServiceInstance,
  serviceInstances,
  setServiceInstance,
  tieUserServiceInstances,
  userServiceInstances,
} from '../../services/service-instances.js';
import type { Executor } from '../../core/db/database.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, bool, id, idParams, int, nullableStr, obj, requestIdAnswer, shape, status, str, stringMap, text } from './schemas.js';

const TAG = 'Services';

const plan = shape({ id: int(), name: str(), fullname: str(), sku: nullableStr() });
const serviceRef = shape({ id: int(), code: str(), name: str() });
const instance = shape({ id: int(), name: str(), status, properties: stringMap });
const customerService = shape({
  id: int(),
  service: serviceRef,
  package: { ...plan, nullable: true },
  status,
  enabled: bool,
  isBilled: bool,
  approvalPending: bool,
  userLimit: { type: ['integer', 'null'] },
  usersWithService: int(),
  userPlans: arrayOf(shape({ plan, enabled: bool, userLimit: { type: ['integer', 'null'] }, used: int() })),
  properties: stringMap,
  instances: arrayOf(instance),
});
const userService = shape({
  id: int(),
  service: serviceRef,
  userPlan: { ...plan, nullable: true },
  enabled: bool,
  status,
  properties: stringMap,
  instances: arrayOf(shape({ id: int(), name: str() })),
});
const limit = { type: ['integer', 'null'], minimum: 0, maximum: 1000000 };
const customerServiceFields = {
  packageId: id,
  enabled: bool,
  userLimit: limit,
  isBilled: bool,
  properties: stringMap,
  userPlans: arrayOf(obj({ planId: id, enabled: bool, userLimit: limit }, ['planId', 'enabled']), 100),
};
const userServiceFields = { userPlanIds: arrayOf(id, 20), enabled: bool, properties: stringMap, instances: arrayOf(text(255), 100) };
const serviceParams = obj({ id, serviceId: id }, ['id', 'serviceId']);

type CustomerServiceBody = {
  serviceId?: number;
  packageId?: number;
  enabled?: boolean;
  userLimit?: number | null;
  isBilled?: boolean;
  properties?: Record<string, string>;
  userPlans?: { planId: number; enabled: boolean; userLimit?: number | null }[];
};
type UserServiceBody = {
  serviceId?: number;
  userPlanIds?: number[];
  enabled?: boolean;
  properties?: Record<string, string>;
  instances?: string[];
};

/** Services: a customer's catalog and services (package, user plans, limits, instances) and a user's services. */
export function consoleServiceRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);
  const params = (req: FastifyRequest) => req.params as { id: number; serviceId: number; name: string };

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/services/catalog',
      tag: TAG,
      params: idParams,
      summary: 'Services this customer may be given, with packages and user plans',
      response: {
        200: shape({
          items: arrayOf(
            shape({
              id: int(),
              code: str(),
              name: str(),
              multiInstance: bool,
              hasUserService: bool,
              assigned: bool,
              packages: arrayOf(plan),
              userPlans: arrayOf(plan),
            }),
          ),
        }),
      },
    },
    async ({ caller }, req) => {
      const offers = await catalogFor(ctx.db, caller, await getCustomer(ctx.db, caller, { id: params(req).id }));
      return {
        items: offers.map((o) => ({
          ...serviceWire(o.service),
          multiInstance: o.service.multi_instance,
          hasUserService: o.service.has_user_service,
          assigned: o.assigned,
          packages: o.packages.map(planWire),
          userPlans: o.userPlans.map(planWire),
        })),
      };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/services',
      tag: TAG,
      params: idParams,
      summary: "The customer's services: package, user plans with limits and usage, properties, instances",
      response: { 200: shape({ items: arrayOf(customerService) }) },
    },
    async ({ caller }, req) => {
      const customer = await getCustomer(ctx.db, caller, { id: params(req).id });
      return { items: await Promise.all((await customerServicesOf(ctx.db, customer)).map((v) => customerServiceWire(ctx.db, v))) };
    },
  );

  const saveCustomerService =
    (status: 200 | 201) =>
    async ({ caller }: { caller: Parameters<typeof getCustomer>[1] }, req: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const p = params(req);
      const b = req.body as CustomerServiceBody;
      const customer = await getCustomer(ctx.db, caller, { id: p.id });
      const input: CustomerServiceInput = {
        service: { id: b.serviceId ?? p.serviceId },
        ...(b.packageId !== undefined ? { plan: { id: b.packageId } } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        ...(b.userLimit !== undefined ? { userLimit: b.userLimit } : {}),
        ...(b.isBilled !== undefined ? { isBilled: b.isBilled } : {}),
        ...(b.properties !== undefined ? { properties: b.properties } : {}),
        ...(b.userPlans !== undefined
          ? {
              userPlans: b.userPlans.map((u) => ({
                plan: { id: u.planId },
                enabled: u.enabled,
                ...(u.userLimit !== undefined ? { userLimit: u.userLimit } : {}),
              })),
            }
          : {}),
      };
      const { customerService: view, requestId } = await inTransaction(ctx.db, (tx) =>
        provisionCustomerService(tx, caller, customer, input),
      );
      return reply.code(status).send({ customerService: await customerServiceWire(ctx.db, view), requestId: requestId ?? null });
    };
  const savedAnswer = shape({ customerService, requestId: { type: ['integer', 'null'] } });

  route(
    {
      method: 'POST',
      url: '/api/console/customers/:id/services',
      tag: TAG,
      fields: { plan: 'packageId' },
      permission: 'Manage Services',
      params: idParams,
      body: obj({ serviceId: id, ...customerServiceFields }, ['serviceId']),
      summary: 'Assign a service to the customer with a package and user plans (limits are checked as in the API)',
      response: { 201: savedAnswer },
    },
    saveCustomerService(201),
  );

  route(
    {
      method: 'PATCH',
      url: '/api/console/customers/:id/services/:serviceId',
      tag: TAG,
      fields: { plan: 'packageId' },
      permission: 'Manage Services',
      params: serviceParams,
      body: obj(customerServiceFields),
      summary: "Change the customer's service: package, user plans, limits, properties",
      response: { 200: savedAnswer },
    },
    saveCustomerService(200),
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/customers/:id/services/:serviceId',
      tag: TAG,
      permission: 'Manage Services',
      params: serviceParams,
      summary: 'Remove the service from the customer and from each of its users',
      response: { 200: requestIdAnswer },
    },
    async ({ caller }, req) => {
      const p = params(req);
      const customer = await getCustomer(ctx.db, caller, { id: p.id });
      return { requestId: await inTransaction(ctx.db, (tx) => deprovisionCustomerService(tx, caller, customer, { id: p.serviceId })) };
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/customers/:id/services/:serviceId/instances',
      tag: TAG,
      permission: 'Manage Services',
      params: serviceParams,
      body: obj({ name: text(255), properties: stringMap }, ['name']),
      summary: 'Add (or change the properties of) an instance of a multi-instance service',
      response: { 201: requestIdAnswer },
    },
    async ({ caller }, req, reply) => {
      const p = params(req);
      const customer = await getCustomer(ctx.db, caller, { id: p.id });
      const requestId = await inTransaction(ctx.db, (tx) =>
        setServiceInstance(tx, caller, customer, { id: p.serviceId }, req.body as { name: string; properties?: Record<string, string> }),
      );
      return reply.code(201).send({ requestId: requestId ?? null });
    },
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/customers/:id/services/:serviceId/instances/:name',
      tag: TAG,
      permission: 'Manage Services',
      params: obj({ id, serviceId: id, name: text(255) }, ['id', 'serviceId', 'name']),
      summary: 'Delete an instance (its users lose it)',
      response: { 200: requestIdAnswer },
    },
    async ({ caller }, req) => {
      const p = params(req);
      const customer = await getCustomer(ctx.db, caller, { id: p.id });
      return { requestId: await inTransaction(ctx.db, (tx) => deleteServiceInstance(tx, caller, customer, { id: p.serviceId }, p.name)) };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/users/:id/services',
      tag: TAG,
      params: idParams,
      summary: "The user's services with user plan and instances",
      response: { 200: shape({ items: arrayOf(userService) }) },
    },
    async ({ caller }, req) => {
      const { user } = await getUserById(ctx.db, caller, params(req).id);
      return { items: await userServicesWire(ctx.db, await userServicesOf(ctx.db, user)) };
    },
  );

  const saveUserService =
    (status: 200 | 201) =>
    async ({ caller }: { caller: Parameters<typeof getCustomer>[1] }, req: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const p = params(req);
      const b = req.body as UserServiceBody;
      const serviceId = b.serviceId ?? p.serviceId;
      const { user, customer } = await getUserById(ctx.db, caller, p.id);
      const { requestId } = await inTransaction(ctx.db, (tx) =>
        groupRequests(tx, caller, async () => {
          await provisionUserService(tx, caller, customer, user, {
            service: { id: serviceId },
            ...(b.userPlanIds !== undefined ? { userPlans: b.userPlanIds.map((planId) => ({ id: planId })) } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
            ...(b.properties !== undefined ? { properties: b.properties } : {}),
          });
          if (b.instances?.length) await tieUserServiceInstances(tx, caller, customer, user, { id: serviceId }, b.instances);
        }),
      );
      return reply
        .code(status)
        .send({ items: await userServicesWire(ctx.db, await userServicesOf(ctx.db, user, serviceId)), requestId: requestId ?? null });
    };
  const userSaved = shape({ items: arrayOf(userService), requestId: { type: ['integer', 'null'] } });

  route(
    {
      method: 'POST',
      url: '/api/console/users/:id/services',
      tag: TAG,
      fields: { userPlans: 'userPlanIds' },
      permission: 'Manage Services',
      params: idParams,
      body: obj({ serviceId: id, ...userServiceFields }, ['serviceId']),
      summary: 'Give the user a service (HE mailbox with a user plan; multi-instance services tied to instances); plan limits are checked',
      response: { 201: userSaved },
    },
    saveUserService(201),
  );

  route(
    {
      method: 'PATCH',
      url: '/api/console/users/:id/services/:serviceId',
      tag: TAG,
      fields: { userPlans: 'userPlanIds' },
      permission: 'Manage Services',
      params: serviceParams,
      body: obj(userServiceFields),
      summary: "Change the user's service: user plan, properties, instances",
      response: { 200: userSaved },
    },
    saveUserService(200),
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/users/:id/services/:serviceId',
      tag: TAG,
      permission: 'Manage Services',
      params: serviceParams,
      summary: 'Remove the service from the user',
      response: { 200: requestIdAnswer },
    },
    async ({ caller }, req) => {
      const p = params(req);
      const { user, customer } = await getUserById(ctx.db, caller, p.id);
      return { requestId: await inTransaction(ctx.db, (tx) => deprovisionUserService(tx, caller, customer, user, { id: p.serviceId })) };
    },
  );
}

function serviceWire(s: Service) {
  return { id: s.id, code: s.code, name: s.fullname };
}

function planWire(p: CustomerPlan | UserPlan) {
  return { id: p.id, name: p.name, fullname: p.fullname, sku: p.sku };
}

async function customerServiceWire(db: Executor, v: CustomerServiceView) {
  return {
    id: v.id,
    service: serviceWire(v.service),
    package: v.plan ? planWire(v.plan) : null,
    status: v.status,
    enabled: v.enabled,
    isBilled: v.isBilled,
    approvalPending: v.approvalPending,
    userLimit: v.userLimit,
    usersWithService: v.usersWithService,
    userPlans: v.userPlans.map((u) => ({ plan: planWire(u.plan), enabled: u.enabled, userLimit: u.userLimit, used: u.used })),
    properties: v.properties,
    instances: v.service.multi_instance ? await serviceInstances(db, v.id) : [],
  };
}

async function userServicesWire(db: Executor, views: UserServiceView[]) {
  return Promise.all(
    views.map(async (v) => ({
      id: v.id,
      service: serviceWire(v.service),
      userPlan: v.userPlan ? planWire(v.userPlan) : null,
      enabled: v.enabled,
      status: v.status,
      properties: v.properties,
      instances: (await userServiceInstances(db, [v.id])).map((i) => ({ id: i.id, name: i.name })),
    })),
  );
}
