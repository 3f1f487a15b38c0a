import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import type { ProvisioningStatus } from '../../core/statuses.js';
import {
  createCustomer,
  deleteCustomer,
  getCustomer,
  updateCustomer,
  type CustomerFields,
  type NewCustomer,
} from '../../tenancy/customer.service.js';
import {
  CUSTOMER_SORTS,
  customerDeletePreview,
  customerDetail,
  customerTreeLevel,
  listCustomers,
  type CustomerDetail,
  type CustomerSort,
} from '../../tenancy/customer-directory.js';
import { findLocations } from '../../tenancy/location.service.js';
import { deprovisionCustomer, reprovisionCustomer } from '../../provisioning/customer-lifecycle.js';
import { isApprovalPending } from '../../approvals/approval-response.service.js';
import { approvalProvidersOf, setApprovalProviders, type ApprovalProviderInput } from '../../approvals/approval-settings.service.js';
import { recentServiceChanges } from '../../billing/ledger/recent-changes.js';
import { psaMappingOf, setPsaMapping, type PsaMapping } from '../../integrations/psa/shared/psa-mapping.js';
import { consoleRouter } from './console-handler.js';
import {
  arrayOf,
  bool,
  dateTime,
  id,
  idParams,
  int,
  nullableRef,
  nullableStr,
  obj,
  pageOf,
  pageSize,
  paging,
  requestIdAnswer,
  shape,
  status,
  str,
  stringMap,
  text,
} from './schemas.js';

const TAG = 'Customers';

const customerRow = shape({
  id: int(),
  name: str(),
  fullname: str(),
  parent: nullableRef,
  status,
  enabled: bool,
  isReseller: bool,
  usersCount: int(),
  billingId: nullableStr(),
});
const psaId: Record<string, unknown> = { type: ['integer', 'null'], minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
/** Issue 11 §6: the Autotask contract / ConnectWise agreement the PSA sync uses; null = its documented rule chooses. */
const psaMapping = shape({ autotaskContractId: psaId, connectwiseAgreementId: psaId });
const propertyDefinition = shape({ name: str(), displayname: str(), default: str(), required: bool });
const customerDetailSchema = shape({
  ...(customerRow.properties as object),
  contactName: str(),
  contactEmail: str(),
  primaryDomain: str(),
  accountCode: nullableStr(),
  address1: nullableStr(),
  address2: nullableStr(),
  country: nullableStr(),
  postcode: nullableStr(),
  email: nullableStr(),
  location: nullableRef,
  billToParent: bool,
  properties: stringMap,
  propertyDefinitions: arrayOf(propertyDefinition),
  psaMapping,
  childrenCount: int(),
  approvalPending: bool,
  createdAt: dateTime,
  modifiedAt: dateTime,
});
const treeNode = shape({
  id: int(),
  name: str(),
  fullname: str(),
  status,
  enabled: bool,
  isReseller: bool,
  childrenCount: int(),
});

const editable = {
  fullname: text(255),
  contactName: text(255),
  contactEmail: str(255, { format: 'email' }),
  primaryDomain: str(253, { pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$' }),
  billingId: nullableStr(64),
  accountCode: nullableStr(64),
  address1: nullableStr(255),
  address2: nullableStr(255),
  country: nullableStr(100),
  postcode: nullableStr(20),
  email: { type: ['string', 'null'], maxLength: 255 },
  locationId: { type: ['integer', 'null'], minimum: 1, maximum: 2147483647 },
  isReseller: bool,
  billToParent: bool,
  properties: stringMap,
};
const createBody = obj({ ...editable, parentId: id, name: str(32, { pattern: '^[A-Za-z0-9-]{1,32}$' }) }, [
  'fullname',
  'contactName',
  'contactEmail',
  'primaryDomain',
]);
const customerAnswer = shape({ customer: customerDetailSchema, requestId: { type: ['integer', 'null'] } });

/** Customers: tree, table, detail, create/edit, enable/disable, de-/re-provision, delete with a preview, detail tabs. */
export function consoleCustomerRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);
  const idOf = (req: FastifyRequest) => (req.params as { id: number }).id;
  const answer = async (caller: Parameters<typeof customerDetail>[1], customerId: number, requestId: number | undefined) => ({
    customer: await toWire(ctx, await customerDetail(ctx.db, caller, { id: customerId })),
    requestId: requestId ?? null,
  });

  route(
    {
      method: 'GET',
      url: '/api/console/customers/tree',
      tag: TAG,
      summary:
        "One level of the customer hierarchy: a customer (default the caller's) and one page of the customers directly below it, by name",
      querystring: obj({ parentId: id, page: paging.page!, pageSize: pageSize(50) }),
      response: { 200: shape({ parent: treeNode, children: pageOf(treeNode) }) },
    },
    async ({ caller }, req) => customerTreeLevel(ctx.db, caller, req.query as { parentId?: number; page: number; pageSize: number }),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers',
      tag: TAG,
      summary: 'Customers: searchable, sortable, paged',
      querystring: obj({
        search: str(100),
        status,
        parentId: id,
        enabled: bool,
        isReseller: bool,
        sort: { type: 'string', enum: [...CUSTOMER_SORTS], default: 'name' },
        ...paging,
      }),
      response: { 200: pageOf(customerRow) },
    },
    async ({ caller }, req) => {
      const q = req.query as {
        search?: string;
        status?: ProvisioningStatus;
        parentId?: number;
        enabled?: boolean;
        isReseller?: boolean;
        sort: CustomerSort;
        order: 'asc' | 'desc';
        page: number;
        pageSize: number;
      };
      return listCustomers(ctx.db, caller, q);
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id',
      tag: TAG,
      summary: 'One customer, everything its edit page shows',
      params: idParams,
      response: { 200: customerDetailSchema },
    },
    async ({ caller }, req) => toWire(ctx, await customerDetail(ctx.db, caller, { id: idOf(req) })),
  );

  route(
    {
      method: 'POST',
      url: '/api/console/customers',
      tag: TAG,
      permission: 'Manage Customers',
      body: createBody,
      fields: { parent: 'parentId' },
      response: { 201: customerAnswer },
      summary: "Create a customer (under parentId, default the caller's customer); its provisioning request starts at once",
    },
    async ({ caller }, req, reply) => {
      const b = req.body as CustomerFields & { parentId?: number; name?: string };
      const { customer, requestId } = await inTransaction(ctx.db, (tx) =>
        createCustomer(tx, caller, {
          ...fieldsOf(b),
          name: b.name,
          ...(b.parentId !== undefined ? { parent: { id: b.parentId } } : {}),
        } as NewCustomer),
      );
      return reply.code(201).send(await answer(caller, customer.id, requestId));
    },
  );

  route(
    {
      method: 'PATCH',
      url: '/api/console/customers/:id',
      tag: TAG,
      summary:
        'Edit a customer: contact, addresses, Billing Identifier, account code, properties, PSA contract/agreement (psaMapping: changing it needs "Manage Customers" over the customer)',
      params: idParams,
      body: obj({ ...editable, psaMapping: obj({ autotaskContractId: psaId, connectwiseAgreementId: psaId }) }),
      response: { 200: customerAnswer },
    },
    async ({ caller }, req) => {
      const body = req.body as CustomerFields & { psaMapping?: Partial<PsaMapping> };
      const ref = { id: idOf(req) };
      const { customer, requestId } = await inTransaction(ctx.db, (tx) =>
        body.psaMapping ? setPsaMapping(tx, caller, ref, body.psaMapping, fieldsOf(body)) : updateCustomer(tx, caller, ref, fieldsOf(body)),
      );
      return answer(caller, customer.id, requestId);
    },
  );

  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    route(
      {
        method: 'POST',
        url: `/api/console/customers/:id/${action}`,
        tag: TAG,
        summary: `${action === 'disable' ? 'Disable' : 'Enable'} a customer (its users ${action === 'disable' ? 'cannot' : 'can'} sign in)`,
        params: idParams,
        response: { 200: customerAnswer },
      },
      async ({ caller }, req) => {
        const { customer, requestId } = await inTransaction(ctx.db, (tx) => updateCustomer(tx, caller, { id: idOf(req) }, { enabled }));
        return answer(caller, customer.id, requestId);
      },
    );
  }

  for (const [action, run] of [
    ['deprovision', deprovisionCustomer],
    ['reprovision', reprovisionCustomer],
  ] as const) {
    route(
      {
        method: 'POST',
        url: `/api/console/customers/:id/${action}`,
        tag: TAG,
        permission: 'Manage Customers',
        params: idParams,
        response: { 200: customerAnswer },
        summary:
          action === 'deprovision'
            ? 'De-provision a customer: its user services, users and customer services, then the customer'
            : 'Re-provision a de-provisioned customer and its users',
      },
      async ({ caller }, req) => {
        const { customer, requestId } = await inTransaction(ctx.db, (tx) => run(tx, caller, { id: idOf(req) }));
        return answer(caller, customer.id, requestId);
      },
    );
  }

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/delete-preview',
      tag: TAG,
      params: idParams,
      summary: 'What deleting the customer would do (changes nothing)',
      response: {
        200: shape({
          canDelete: bool,
          blockers: arrayOf(str(1000)),
          children: int(),
          users: int(),
          customerServices: int(),
          userServices: int(),
          effects: arrayOf(str(1000)),
        }),
      },
    },
    async ({ caller }, req) => customerDeletePreview(ctx.db, caller, { id: idOf(req) }),
  );

  route(
    {
      method: 'DELETE',
      url: '/api/console/customers/:id',
      tag: TAG,
      permission: 'Manage Customers',
      params: idParams,
      summary: 'Delete a customer with its users (refused while it has customers)',
      response: { 200: requestIdAnswer },
    },
    async ({ caller }, req) => ({ requestId: await inTransaction(ctx.db, (tx) => deleteCustomer(tx, caller, { id: idOf(req) })) }),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/locations',
      tag: TAG,
      params: idParams,
      summary: "The customer's location and the locations it may be placed in",
      response: {
        200: shape({
          current: nullableRef,
          items: arrayOf(
            shape({
              id: int(),
              name: str(),
              description: str(),
              customerProperties: arrayOf(propertyDefinition),
              additionalProperties: arrayOf(propertyDefinition),
            }),
          ),
        }),
      },
    },
    async ({ caller }, req) => {
      const customer = await getCustomer(ctx.db, caller, { id: idOf(req) });
      const locations = await findLocations(ctx.db, caller);
      const current = locations.find((l) => l.id === customer.locationId);
      return {
        current: current ? { id: current.id, name: current.name } : null,
        items: locations.map((l) => ({
          id: l.id,
          name: l.name,
          description: l.description,
          customerProperties: l.customerProperties,
          additionalProperties: l.additionalProperties,
        })),
      };
    },
  );

  const subscription = shape({ target: str(), service: str(), event: str(), access: str() });
  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/approval-settings',
      tag: TAG,
      params: idParams,
      summary: 'Approval providers, groups, members and subscriptions of the customer',
      response: {
        200: shape({
          providers: arrayOf(
            shape({
              name: str(),
              description: str(),
              configuration: stringMap,
              subscriptions: arrayOf(subscription),
              groups: arrayOf(
                shape({
                  name: str(),
                  description: str(),
                  configuration: stringMap,
                  members: arrayOf(shape({ name: str(), displayName: str() })),
                  subscriptions: arrayOf(subscription),
                }),
              ),
            }),
          ),
        }),
      },
    },
    async ({ caller }, req) => ({
      providers: await approvalProvidersOf(ctx.db, caller, await getCustomer(ctx.db, caller, { id: idOf(req) })),
    }),
  );

  const subscriptionInput = obj(
    {
      target: { type: 'string', enum: ['customers', 'users', 'services', 'userservices'] },
      service: str(255),
      event: { type: 'string', enum: ['Provision', 'Deprovision'] },
      access: { type: 'string', enum: ['None', 'Object'] },
      // Removes the stored subscription of this target, service and event (access is then not needed).
      delete: bool,
    },
    ['target', 'event'],
  );
  route(
    {
      method: 'PUT',
      url: '/api/console/customers/:id/approval-settings',
      tag: TAG,
      params: idParams,
      summary: 'Change approval providers, groups and subscriptions (the providers named are changed; others stay)',
      body: obj(
        {
          providers: arrayOf(
            obj(
              {
                name: text(100),
                configuration: stringMap,
                subscriptions: arrayOf(subscriptionInput, 100),
                groups: arrayOf(
                  obj(
                    {
                      name: text(100),
                      description: str(1000),
                      configuration: stringMap,
                      members: arrayOf(str(256), 1000),
                      subscriptions: arrayOf(subscriptionInput, 100),
                      delete: bool,
                    },
                    ['name'],
                  ),
                  100,
                ),
              },
              ['name'],
            ),
            10,
          ),
        },
        ['providers'],
      ),
    },
    async ({ caller }, req) => {
      const customer = await getCustomer(ctx.db, caller, { id: idOf(req) });
      await inTransaction(ctx.db, (tx) =>
        setApprovalProviders(tx, caller, customer, (req.body as { providers: ApprovalProviderInput[] }).providers),
      );
      return { providers: await approvalProvidersOf(ctx.db, caller, customer) };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/customers/:id/service-changes',
      tag: TAG,
      params: idParams,
      querystring: obj({ limit: pageSize(50) }),
      summary: 'Recent service changes of the customer from the billing ledger, newest first',
      response: {
        200: shape({
          items: arrayOf(
            shape({
              id: int(),
              occurredAt: dateTime,
              action: str(),
              user: nullableRef,
              serviceCode: nullableStr(),
              planCode: nullableStr(),
              instanceName: nullableStr(),
              quantity: str(),
              actionedBy: str(),
            }),
          ),
        }),
      },
    },
    async ({ caller }, req) => ({ items: await recentServiceChanges(ctx.db, caller, idOf(req), (req.query as { limit: number }).limit) }),
  );
}

/** Only the fields the body names: an absent field is left as it is. */
function fieldsOf(b: CustomerFields): CustomerFields {
  const keys: (keyof CustomerFields)[] = [
    'fullname',
    'contactName',
    'contactEmail',
    'primaryDomain',
    'billingId',
    'accountCode',
    'address1',
    'address2',
    'country',
    'postcode',
    'email',
    'locationId',
    'isReseller',
    'billToParent',
    'properties',
  ];
  return Object.fromEntries(keys.filter((k) => b[k] !== undefined).map((k) => [k, b[k]])) as CustomerFields;
}

async function toWire(ctx: AppContext, c: CustomerDetail) {
  return {
    id: c.id,
    name: c.name,
    fullname: c.fullname,
    parent: c.parent,
    status: c.status,
    enabled: c.enabled,
    isReseller: c.isReseller,
    usersCount: c.usersCount,
    billingId: c.billingId,
    contactName: c.contactName,
    contactEmail: c.contactEmail,
    primaryDomain: c.primaryDomain,
    accountCode: c.accountCode,
    address1: c.address1,
    address2: c.address2,
    country: c.country,
    postcode: c.postcode,
    email: c.email,
    location: c.location,
    billToParent: c.billToParent,
    properties: c.properties,
    propertyDefinitions: c.propertyDefinitions,
    psaMapping: psaMappingOf(c),
    childrenCount: c.childrenCount,
    approvalPending: await isApprovalPending(ctx.db, 'customer', c.id),
    createdAt: c.createdAt.toISOString(),
    modifiedAt: c.modifiedAt.toISOString(),
  };
}
