import type { Executor } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { getService } from '../../catalog/catalog.service.js';
import { getProvider, type Customer } from '../../tenancy/customer.service.js';
import { fullnameOf } from '../../tenancy/user.service.js';
import { selectContacts, selectCustomerUsers, selectGroups } from './exchange.queries.js';
import type { RecipientKind } from './schema.js';

/** How a request names a user, contact or group: any one of these (seed: displayname, syncobjectid, path, email). */
export interface RecipientRef {
  displayname?: string;
  syncObjectId?: string;
  path?: string;
  email?: string;
}

export interface Recipient {
  kind: RecipientKind;
  id: number;
  displayname: string;
  syncObjectId: string | null;
  path: string;
  email: string;
  enabled: boolean;
}

export const HOSTED_EXCHANGE = 'HE';

const OU: Record<RecipientKind, string> = { user: 'Users', contact: 'Contacts', group: 'Distribution Groups' };

export type DirectoryPath = (kind: RecipientKind, displayname: string) => string;

/**
 * The directory paths Tenantry shows for a customer's recipients, in Atria's layout:
 * CN=<name>,OU=Distribution Groups,OU=<Customer>(<CODE>),OU=Customers,DC=<provider domain>.
 * The provider is read once; the returned function builds each path without a query.
 */
export async function directoryPaths(db: Executor, customer: Customer): Promise<DirectoryPath> {
  const provider = await getProvider(db);
  const dc = (provider?.primaryDomain ?? 'local')
    .split('.')
    .map((p) => `DC=${escapeDn(p)}`)
    .join(',');
  const ou = `OU=${escapeDn(customer.fullname)}(${escapeDn(customer.name)}),OU=Customers,${dc}`;
  return (kind, displayname) => `CN=${escapeDn(displayname)},OU=${OU[kind]},${ou}`;
}

function escapeDn(v: string): string {
  return v.replace(/[,\\#+<>;"=]/g, (c) => '\\' + c);
}

/** The customer's Hosted Exchange service; groups and contacts exist only where it is provisioned. */
export async function hostedExchangeOf(db: Executor, customer: Customer): Promise<{ id: number }> {
  const service = await getService(db, { name: HOSTED_EXCHANGE });
  const cs = await db
    .selectFrom('customer_services')
    .select(['id', 'status'])
    .where('customer_id', '=', customer.id)
    .where('service_id', '=', service.id)
    .executeTakeFirst();
  if (!cs || cs.status === 'NotProvisioned') {
    throw new DomainError('InvalidService', `Service '${HOSTED_EXCHANGE}' is not provisioned to customer '${customer.name}'.`);
  }
  return cs;
}

function userSyncId(properties: Record<string, string>): string | null {
  const key = Object.keys(properties).find((k) => k.toLowerCase() === 'syncobjectid');
  return key ? properties[key]! : null;
}

/** Every recipient of a customer (users, contacts, groups), optionally only those with the given ids per kind. */
export async function recipientsOf(
  db: Executor,
  customer: Customer,
  only?: Partial<Record<RecipientKind, number[]>>,
): Promise<Recipient[]> {
  const out: Recipient[] = [];
  const path = await directoryPaths(db, customer);
  if (!only || only.user) {
    for (const u of await selectCustomerUsers(db, customer.id, only?.user).execute()) {
      const displayname = fullnameOf({ name: u.name, displayName: u.display_name, firstName: u.first_name, lastName: u.last_name });
      out.push({
        kind: 'user',
        id: u.id,
        displayname,
        syncObjectId: userSyncId(u.properties),
        path: path('user', displayname),
        email: u.upn,
        enabled: u.enabled,
      });
    }
  }
  if (!only || only.contact) {
    for (const c of await selectContacts(db, customer.id, only?.contact ? { ids: only.contact } : {}).execute()) {
      out.push({
        kind: 'contact',
        id: c.id,
        displayname: c.displayname,
        syncObjectId: c.sync_object_id,
        path: path('contact', c.displayname),
        email: c.email,
        enabled: c.enabled,
      });
    }
  }
  if (!only || only.group) {
    for (const g of await selectGroups(db, customer.id, only?.group ? { ids: only.group } : {}).execute()) {
      out.push({
        kind: 'group',
        id: g.id,
        displayname: g.displayname,
        syncObjectId: g.sync_object_id,
        path: path('group', g.displayname),
        email: g.email,
        enabled: g.enabled,
      });
    }
  }
  return out;
}

/** Finds a recipient by sync id, then path, then email, then display name (case-insensitive). */
export function matchRecipient(all: Recipient[], ref: RecipientRef, kinds?: RecipientKind[]): Recipient | undefined {
  const pool = kinds ? all.filter((r) => kinds.includes(r.kind)) : all;
  const eq = (a: string | null, b: string | undefined) => b !== undefined && b !== '' && a !== null && a.toLowerCase() === b.toLowerCase();
  return (
    pool.find((r) => eq(r.syncObjectId, ref.syncObjectId)) ??
    pool.find((r) => eq(r.path, ref.path)) ??
    pool.find((r) => eq(r.email, ref.email)) ??
    pool.find((r) => eq(r.displayname, ref.displayname))
  );
}

export function describeRecipient(ref: RecipientRef): string {
  return ref.syncObjectId || ref.path || ref.email || ref.displayname || '';
}

export function isEmptyRef(ref: RecipientRef): boolean {
  return !ref.syncObjectId && !ref.path && !ref.email && !ref.displayname;
}
