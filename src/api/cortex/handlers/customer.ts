import { DomainError, customerNotFound } from '../../../core/errors.js';
import type { Executor } from '../../../core/db/database.js';
import type { Caller } from '../../../tenancy/caller.js';
import {
  createCustomer,
  deleteCustomer,
  findCustomer,
  findCustomers,
  getCustomer,
  updateCustomer,
  type Customer,
  type CustomerFields,
} from '../../../tenancy/customer.service.js';
import type { CustomerFilter } from '../../../tenancy/customer.queries.js';
import { findLocations, getLocation, UNASSIGNED } from '../../../tenancy/location.service.js';
import { deprovisionCustomer, reprovisionCustomer } from '../../../provisioning/customer-lifecycle.js';
import { el, type OutNode } from '../serialize.js';
import { boolOf, child, children, textOf, type XmlNode } from '../xml.js';
import { propertiesOf, propertiesRequestOf, propertiesToWire } from './properties.js';
import { customerRefOf, isEmptyRef, nullableTextOf, parentRefOf, statusOf } from './refs.js';
import { customerServicesOf } from '../../../services/service-assignment.service.js';
import { deleteCustomerServiceInstances, findCustomerServices, getCustomerService, setCustomerService } from './services.js';
import { deleteUserIn, findUsersIn, getUserIn, setUserIn } from './users.js';
import type { EntityHandlers, ReadContext, WriteContext } from './types.js';
import { approvalCustomerGet, approvalCustomerSet } from './approvals.js';
import { isApprovalPending } from '../../../approvals/approval-response.service.js';

/** The FIND summary, exactly the seed's fields and order. */
function customerSummary(c: Customer): OutNode[] {
  return [
    el('name', c.name),
    el('id', c.id),
    el('fullname', c.fullname),
    el('billingid', c.billingId),
    el('primarydomain', c.primaryDomain),
    el('status', c.status),
  ];
}

async function locationName(db: Executor, caller: Caller, c: Customer): Promise<string> {
  if (c.locationId === null) return UNASSIGNED;
  return (await findLocations(db, caller, { id: c.locationId }))[0]?.name ?? UNASSIGNED;
}

async function findCustomerHandler(node: XmlNode, cx: ReadContext): Promise<OutNode[]> {
  const filter: CustomerFilter = customerRefOf(node);
  const domain = textOf(node, 'primarydomain');
  if (domain) filter.primarydomain = domain;
  const status = statusOf(node);
  if (status) filter.status = status;
  const parentRef = parentRefOf(node);
  if (parentRef) {
    const parent = await findCustomer(cx.db, cx.caller, parentRef);
    if (!parent) return [];
    filter.parentId = parent.id;
  }
  const customers = await findCustomers(cx.db, cx.caller, filter);
  const out: OutNode[] = [];
  for (const c of customers) {
    const nested: OutNode[] = [];
    for (const u of children(node, 'user')) nested.push(...(await findUsersIn(cx, c, u)));
    const serviceNode = child(node, 'service');
    if (serviceNode) nested.push(...(await findCustomerServices(cx.db, c, await locationName(cx.db, cx.caller, c), serviceNode)));
    out.push(el('customer', [...customerSummary(c), ...nested]));
  }
  return out;
}

async function selectedCustomer(db: Executor, caller: Caller, node: XmlNode): Promise<Customer> {
  const ref = customerRefOf(node);
  if (isEmptyRef(ref)) throw new DomainError('CustomerError', 'A customer must be selected by <name>, <fullname>, <id> or <billingid>.');
  return getCustomer(db, caller, ref);
}

/**
 * GET: with nested <user>/<service> selectors the customer is identified (name, id, fullname) and
 * the nested entities are detailed, as in the seed's discovery example; otherwise the customer's
 * own details, in a shape a SET accepts back.
 */
async function getCustomerHandler(node: XmlNode, cx: ReadContext): Promise<OutNode[]> {
  const customer = await selectedCustomer(cx.db, cx.caller, node);
  const location = await locationName(cx.db, cx.caller, customer);
  const users = children(node, 'user');
  const services = children(node, 'service');
  if (users.length || services.length) {
    const nested: OutNode[] = [];
    const held = services.length ? await customerServicesOf(cx.db, customer) : [];
    for (const s of services) nested.push(await getCustomerService(cx, customer, location, s, held));
    for (const u of users) nested.push(await getUserIn(cx, customer, u));
    return [el('customer', [el('name', customer.name), el('id', customer.id), el('fullname', customer.fullname), ...nested])];
  }
  const parent = customer.parentId === null ? undefined : await findCustomer(cx.db, cx.caller, { id: customer.parentId });
  const pending = await isApprovalPending(cx.db, 'customer', customer.id);
  const out = [...customerDetail(customer, location, pending), ...(parent ? [el('parent', [el('name', parent.name)])] : [])];
  const props = propertiesRequestOf(node);
  if (props) {
    const defs = customer.locationId === null ? [] : (await getLocation(cx.db, cx.caller, { id: customer.locationId })).customerProperties;
    out.push(
      propertiesToWire(
        customer.properties,
        defs.map((d) => ({ name: d.name, displayname: d.displayname, type: 'string', default_value: d.default ?? null })),
        props,
      ),
    );
  }
  out.push(...(await approvalCustomerGet(cx, customer, node)));
  return [el('customer', out)];
}

/** seed 002 "Approval Status": a read-only <approvalpending> follows every <status> a GET shows. */
function customerDetail(c: Customer, location: string, approvalPending: boolean): OutNode[] {
  return [
    ...customerSummary(c).filter((n) => n.tag !== 'status'),
    el('contactname', c.contactName),
    el('contactemail', c.contactEmail),
    el('accountcode', c.accountCode),
    el('address1', c.address1),
    el('address2', c.address2),
    el('country', c.country),
    el('postcode', c.postcode),
    el('email', c.email),
    el('location', location),
    el('isreseller', c.isReseller),
    el('billtoparent', c.billToParent),
    el('enabled', c.enabled),
    el('status', c.status),
    el('approvalpending', approvalPending),
  ];
}

/** SET: create (fullname, contactname, contactemail, primarydomain; optional name, parent) or update, then nested services and users. */
async function setCustomerHandler(node: XmlNode, cx: WriteContext): Promise<void> {
  let customer = await targetCustomer(cx, node);
  const fields = await customerFieldsOf(cx, node, customer);
  if (!customer) {
    const name = textOf(node, 'name');
    const parent = parentRefOf(node);
    ({ customer } = await createCustomer(cx.tx, cx.caller, { ...fields, ...(name ? { name } : {}), ...(parent ? { parent } : {}) }));
  } else {
    await assertSameParent(cx, customer, node);
    ({ customer } = await updateCustomer(cx.tx, cx.caller, { id: customer.id }, fields));
  }
  cx.outcome.customerId ??= customer.id;
  const status = statusOf(node);
  // Re-provision before nested changes (they need a provisioned customer); de-provision after them, so it covers them too.
  if (status === 'Provisioned') ({ customer } = await reprovisionCustomer(cx.tx, cx.caller, { id: customer.id }));
  for (const s of children(node, 'service')) await setCustomerService(cx, customer, s);
  for (const u of children(node, 'user')) await setUserIn(cx, customer, u);
  await approvalCustomerSet(cx, customer, node);
  if (status === 'NotProvisioned') await deprovisionCustomer(cx.tx, cx.caller, { id: customer.id });
}

const CREATE_FIELDS = ['contactname', 'contactemail', 'primarydomain'];

/**
 * The customer a SET addresses: by <id> or <name>; by <fullname>/<billingid> only when the SET
 * is not a creation (display names need not be unique). Undefined means "create".
 */
async function targetCustomer(cx: WriteContext, node: XmlNode): Promise<Customer | undefined> {
  const ref = customerRefOf(node);
  const creating = CREATE_FIELDS.some((t) => textOf(node, t) !== undefined);
  if (ref.id !== undefined) return getCustomer(cx.tx, cx.caller, { id: ref.id });
  if (ref.name !== undefined) {
    const found = await findCustomer(cx.tx, cx.caller, { name: ref.name });
    if (!found && !creating) throw customerNotFound(ref.name);
    return found;
  }
  if (creating || (ref.fullname === undefined && ref.billingid === undefined)) return undefined;
  return getCustomer(cx.tx, cx.caller, ref);
}

/** A GET → SET round trip sends <parent> back: accepted when it names the current parent; customers are never moved. */
async function assertSameParent(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  const ref = parentRefOf(node);
  if (!ref) return;
  const parent = await findCustomer(cx.tx, cx.caller, ref);
  if (parent?.id !== customer.parentId)
    throw new DomainError('CustomerError', `Customer '${customer.name}' cannot be moved to another parent.`);
}

async function customerFieldsOf(cx: WriteContext, node: XmlNode, current: Customer | undefined): Promise<CustomerFields> {
  const f: CustomerFields = {};
  for (const [tag, key] of [
    ['fullname', 'fullname'],
    ['contactname', 'contactName'],
    ['contactemail', 'contactEmail'],
    ['primarydomain', 'primaryDomain'],
  ] as const) {
    const v = textOf(node, tag);
    if (v !== undefined) f[key] = v;
  }
  for (const [tag, key] of [
    ['billingid', 'billingId'],
    ['accountcode', 'accountCode'],
    ['address1', 'address1'],
    ['address2', 'address2'],
    ['country', 'country'],
    ['postcode', 'postcode'],
    ['email', 'email'],
  ] as const) {
    const v = nullableTextOf(node, tag);
    if (v !== undefined) f[key] = v;
  }
  for (const [tag, key] of [
    ['enabled', 'enabled'],
    ['isreseller', 'isReseller'],
    ['billtoparent', 'billToParent'],
  ] as const) {
    const v = boolOf(node, tag);
    if (v !== undefined && (!current || current[key] !== v)) f[key] = v;
  }
  const location = textOf(node, 'location');
  if (location && location !== UNASSIGNED) f.locationId = (await getLocation(cx.tx, cx.caller, { name: location })).id;
  const properties = propertiesOf(node, undefined);
  if (properties) f.properties = { ...(current?.properties ?? {}), ...properties };
  return f;
}

/** DELETE: nested <user>s or service <instances> when given, else the customer itself. */
async function deleteCustomerHandler(node: XmlNode, cx: WriteContext): Promise<void> {
  const customer = await selectedCustomer(cx.tx, cx.caller, node);
  cx.outcome.customerId ??= customer.id;
  const users = children(node, 'user');
  const services = children(node, 'service');
  if (!users.length && !services.length) {
    await deleteCustomer(cx.tx, cx.caller, { id: customer.id });
    return;
  }
  for (const s of services) await deleteCustomerServiceInstances(cx, customer, s);
  for (const u of users) await deleteUserIn(cx, customer, u);
}

export const customerHandlers: EntityHandlers = {
  FIND: findCustomerHandler,
  GET: getCustomerHandler,
  SET: setCustomerHandler,
  DELETE: deleteCustomerHandler,
};
