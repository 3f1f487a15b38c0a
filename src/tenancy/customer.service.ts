import { assertFieldLengths, assertPropertyMap, type FieldLimits } from '../core/field-limits.js';
import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, customerNotFound, must } from '../core/errors.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createRequest } from '../provisioning/requests.js';
import { recordServiceChange } from '../billing/ledger/record-change.js';
import { pathInScope, requirePermission, type Caller } from './caller.js';
import type { CustomersTable } from './schema.js';
import { namesInUse, selectCustomerByRef, selectCustomers, type CustomerFilter, type CustomerRef } from './customer.queries.js';
import { firstFreeCode, shortCodeFromFullname, SHORT_CODE_PATTERN } from './short-code.js';
import { sql, type Insertable, type Selectable } from 'kysely';
import { credentialsChanged } from './sign-in/credential-events.js';

export type CustomerRow = Selectable<CustomersTable>;

export interface Customer {
  id: number;
  parentId: number | null;
  path: string;
  name: string;
  fullname: string;
  contactName: string;
  contactEmail: string;
  primaryDomain: string;
  billingId: string | null;
  accountCode: string | null;
  address1: string | null;
  address2: string | null;
  country: string | null;
  postcode: string | null;
  email: string | null;
  locationId: number | null;
  status: ProvisioningStatus;
  enabled: boolean;
  isReseller: boolean;
  billToParent: boolean;
  properties: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
}

export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    parentId: row.parent_id,
    path: row.path,
    name: row.name,
    fullname: row.fullname,
    contactName: row.contact_name,
    contactEmail: row.contact_email,
    primaryDomain: row.primary_domain,
    billingId: row.billing_id,
    accountCode: row.account_code,
    address1: row.address1,
    address2: row.address2,
    country: row.country,
    postcode: row.postcode,
    email: row.email,
    locationId: row.location_id,
    status: row.status,
    enabled: row.enabled,
    isReseller: row.is_reseller,
    billToParent: row.bill_to_parent,
    properties: row.properties,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

/** Fields a caller may set on a customer; undefined leaves a field as it is. */
export interface CustomerFields {
  fullname?: string;
  contactName?: string;
  contactEmail?: string;
  primaryDomain?: string;
  billingId?: string | null;
  accountCode?: string | null;
  address1?: string | null;
  address2?: string | null;
  country?: string | null;
  postcode?: string | null;
  email?: string | null;
  locationId?: number | null;
  enabled?: boolean;
  isReseller?: boolean;
  billToParent?: boolean;
  properties?: Record<string, string>;
}

export interface NewCustomer extends CustomerFields {
  name?: string;
  parent?: CustomerRef;
}

/** Most characters per customer field (docs/security.md); the short code (`name`) has its own pattern of up to 32. */
export const CUSTOMER_FIELD_LIMITS: FieldLimits = {
  fullname: 255,
  contactName: 255,
  contactEmail: 255,
  primaryDomain: 253,
  billingId: 64,
  accountCode: 64,
  address1: 255,
  address2: 255,
  country: 100,
  postcode: 20,
  email: 255,
};

function assertCustomerFields(fields: CustomerFields): void {
  assertFieldLengths('CustomerError', 'customer', fields, CUSTOMER_FIELD_LIMITS);
  assertPropertyMap('customer', 'properties', fields.properties);
}

export const INVALID_NEW_CUSTOMER_MESSAGE =
  'Unable to create customer. A new customer must specify the name, fullname, contactname, contactemail and primarydomain.';

export async function findCustomer(db: Executor, caller: Caller, ref: CustomerRef): Promise<Customer | undefined> {
  const row = await selectCustomerByRef(db, caller, ref).orderBy('customers.id').executeTakeFirst();
  return row && toCustomer(row);
}

/** Loads a customer in the caller's reach; a sibling's customer is reported exactly like a missing one. */
export async function getCustomer(db: Executor, caller: Caller, ref: CustomerRef): Promise<Customer> {
  return must(await findCustomer(db, caller, ref), () => customerNotFound(describeRef(ref)));
}

export async function findCustomers(db: Executor, caller: Caller, filter: CustomerFilter = {}): Promise<Customer[]> {
  return (await selectCustomers(db, caller, filter).execute()).map(toCustomer);
}

export function describeRef(ref: CustomerRef): string {
  return ref.name ?? ref.fullname ?? ref.billingid ?? (ref.id !== undefined ? String(ref.id) : '');
}

export async function createCustomer(tx: Tx, caller: Caller, input: NewCustomer): Promise<{ customer: Customer; requestId: number }> {
  requirePermission(caller, 'Manage Customers');
  assertCustomerFields(input);
  const required = [input.fullname, input.contactName, input.contactEmail, input.primaryDomain];
  if (required.some((v) => v === undefined || v.trim() === '')) {
    throw new DomainError('InvalidNewCustomer', INVALID_NEW_CUSTOMER_MESSAGE);
  }
  const parent = input.parent ? await getCustomer(tx, caller, input.parent) : await getCustomer(tx, caller, { id: caller.customerId });
  const columns: Partial<Record<keyof CustomersTable, unknown>> = {
    fullname: input.fullname!.trim(),
    contact_name: input.contactName!.trim(),
    contact_email: input.contactEmail!.trim(),
    primary_domain: input.primaryDomain!.trim(),
    ...columnsOf(input),
  };
  if (parent.parentId !== null && !parent.isReseller) {
    throw new DomainError('CustomerError', `Customer '${parent.name}' is not a reseller and cannot have customers.`, { field: 'parent' });
  }
  if (!pathInScope(caller, parent.path) || (!caller.subtree && parent.id === caller.customerId)) {
    throw new DomainError('NotAuthorized', 'The user may not create customers here.');
  }
  const name = await chooseName(tx, parent, input.name, input.fullname!.trim());
  // The id is drawn first so the row is written once, with its path (one statement, not insert + update).
  // The drawn id is referenced twice: a CTE read more than once (and nextval, volatile) is evaluated once.
  const drawn = sql<number>`(select id from drawn)`;
  const row = await tx
    .with('drawn', (db) => db.selectNoFrom(sql<number>`nextval(pg_get_serial_sequence('customers', 'id'))`.as('id')))
    .insertInto('customers')
    .values({
      ...columns,
      id: drawn,
      path: sql<string>`${parent.path} || ${drawn} || '/'`,
      parent_id: parent.id,
      depth: parent.path.split('/').filter(Boolean).length,
      name,
      status: 'Requested',
    } as Insertable<CustomersTable>)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordServiceChange(tx, caller, { action: 'customer_created', customerId: row.id, quantity: '1' });
  const requestId = await createRequest(tx, caller, { entity: 'customer', entityId: row.id, customerId: row.id, action: 'provision' });
  return { customer: toCustomer(row), requestId };
}

/**
 * The new customer's short code: the one asked for, if free and valid, or one made from the full
 * name. A create re-sent after a timeout must not double a tenant (and its billing): without an
 * explicit short code, a full name already used under the same parent is refused, naming the
 * existing customer. The parent row is locked first so two concurrent creates cannot both pass;
 * the check then reads in a statement of its own, which sees a create committed while it waited.
 */
async function chooseName(tx: Tx, parent: Customer, requested: string | undefined, fullname: string): Promise<string> {
  const explicit = requested !== undefined && requested.trim() !== '' ? requested.trim() : undefined;
  if (explicit !== undefined && !SHORT_CODE_PATTERN.test(explicit)) {
    throw new DomainError('CustomerError', `The customer name '${explicit}' is not valid: use up to 32 letters, digits and '-'.`, {
      field: 'name',
    });
  }
  if (explicit === undefined) await tx.selectFrom('customers').select('id').where('id', '=', parent.id).forUpdate().execute();
  const prefix = explicit ?? shortCodeFromFullname(fullname);
  const { codes, existing } = await namesInUse(tx, prefix, explicit === undefined ? { parentId: parent.id, fullname } : undefined);
  if (existing !== null) {
    throw new DomainError(
      'CustomerError',
      `Customer '${fullname}' already exists under '${parent.name}' as '${existing}'. To create another customer with this full name, give it an explicit new name (short code).`,
      { existing },
    );
  }
  if (explicit === undefined) return firstFreeCode(prefix, codes);
  if (codes.some((c) => c.toLowerCase() === explicit.toLowerCase())) {
    throw new DomainError('CustomerError', `A customer with the name '${explicit}' already exists.`, { field: 'name' });
  }
  return explicit;
}

function columnsOf(f: CustomerFields) {
  const set: Partial<Record<keyof CustomersTable, unknown>> = {};
  if (f.fullname !== undefined) set.fullname = f.fullname.trim();
  if (f.contactName !== undefined) set.contact_name = f.contactName.trim();
  if (f.contactEmail !== undefined) set.contact_email = f.contactEmail.trim();
  if (f.primaryDomain !== undefined) set.primary_domain = f.primaryDomain.trim();
  if (f.billingId !== undefined) set.billing_id = f.billingId;
  if (f.accountCode !== undefined) set.account_code = f.accountCode;
  if (f.address1 !== undefined) set.address1 = f.address1;
  if (f.address2 !== undefined) set.address2 = f.address2;
  if (f.country !== undefined) set.country = f.country;
  if (f.postcode !== undefined) set.postcode = f.postcode;
  if (f.email !== undefined) set.email = f.email;
  if (f.locationId !== undefined) set.location_id = f.locationId;
  if (f.enabled !== undefined) set.enabled = f.enabled;
  if (f.isReseller !== undefined) set.is_reseller = f.isReseller;
  if (f.billToParent !== undefined) set.bill_to_parent = f.billToParent;
  if (f.properties !== undefined) set.properties = JSON.stringify(f.properties);
  return set as Record<string, never>;
}

/**
 * Updates a customer's details. Returns the provisioning request that pushes the change,
 * or undefined when nothing changed (a GET → SET round trip is a no-op).
 */
export async function updateCustomer(
  tx: Tx,
  caller: Caller,
  ref: CustomerRef,
  fields: CustomerFields,
): Promise<{ customer: Customer; requestId: number | undefined }> {
  assertCustomerFields(fields);
  const current = await getCustomer(tx, caller, ref);
  if (current.id === caller.customerId && fields.enabled === false) {
    throw new DomainError('NotAuthorized', 'A user cannot disable its own customer.');
  }
  const changes = changedColumns(current, fields);
  if ('is_reseller' in changes || 'bill_to_parent' in changes) await assertMayChangeResale(tx, caller, current, fields);
  if (Object.keys(changes).length === 0) return { customer: current, requestId: undefined };
  const row = await tx
    .updateTable('customers')
    .set({ ...changes, modified_at: new Date() })
    .where('id', '=', current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if ('enabled' in changes) await credentialsChanged(tx, { customerId: current.id });
  const requestId = await createRequest(tx, caller, {
    entity: 'customer',
    entityId: current.id,
    customerId: current.id,
    action: 'update',
    desired: { changed: Object.keys(changes) },
  });
  return { customer: toCustomer(row), requestId };
}

/**
 * Whether a customer resells and who it bills are set from above: by a caller with "Manage Customers"
 * over it, never by the customer's own users (issue 16). A reseller with customers stays one.
 */
async function assertMayChangeResale(tx: Tx, caller: Caller, current: Customer, fields: CustomerFields): Promise<void> {
  requirePermission(caller, 'Manage Customers');
  if (current.id === caller.customerId && current.parentId !== null) {
    throw new DomainError('NotAuthorized', 'A user cannot change whether its own customer is a reseller or billed to its parent.');
  }
  if (fields.isReseller === false) {
    const child = await tx
      .selectFrom('customers')
      .select('name')
      .where('parent_id', '=', current.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (child)
      throw new DomainError(
        'CustomerError',
        `Customer '${current.name}' still has customers (such as '${child.name}'), so it stays a reseller.`,
        { field: 'isReseller' },
      );
  }
}

function changedColumns(current: Customer, fields: CustomerFields): Record<string, never> {
  const next = columnsOf(fields) as Record<string, unknown>;
  // A Customer carries every settable field under the same name, so it maps to columns the same way.
  const now = columnsOf(current) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(next).filter(([k, v]) => now[k] !== v)) as Record<string, never>;
}

/** Soft-deletes a customer with its users; refuses while it still has customers of its own. */
export async function deleteCustomer(tx: Tx, caller: Caller, ref: CustomerRef): Promise<number> {
  requirePermission(caller, 'Manage Customers');
  const customer = await getCustomer(tx, caller, ref);
  if (customer.id === caller.customerId || customer.parentId === null) {
    throw new DomainError('CustomerError', 'A customer cannot delete itself or the service provider.');
  }
  const child = await tx
    .selectFrom('customers')
    .select('id')
    .where('parent_id', '=', customer.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (child) throw new DomainError('CustomerError', `Customer '${customer.name}' still has customers; delete them first.`);
  const now = new Date();
  await tx
    .updateTable('users')
    .set({ deleted_at: now, modified_at: now })
    .where('customer_id', '=', customer.id)
    .where('deleted_at', 'is', null)
    .execute();
  await tx.updateTable('customers').set({ deleted_at: now, modified_at: now, enabled: false }).where('id', '=', customer.id).execute();
  await credentialsChanged(tx, { customerId: customer.id });
  await recordServiceChange(tx, caller, { action: 'customer_deleted', customerId: customer.id, quantity: '0' });
  return createRequest(tx, caller, { entity: 'customer', entityId: customer.id, customerId: customer.id, action: 'delete' });
}

export async function getProvider(db: Executor): Promise<Customer | undefined> {
  const row = await db
    .selectFrom('customers')
    .selectAll()
    .where('parent_id', 'is', null)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .executeTakeFirst();
  return row && toCustomer(row);
}
