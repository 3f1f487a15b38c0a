import type { Selectable } from 'kysely';
import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { createRequest } from '../../provisioning/requests.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import type { Customer } from '../../tenancy/customer.service.js';
import { removeRecipientEverywhere, selectContacts, type Page } from './exchange.queries.js';
import {
  describeRecipient,
  directoryPaths,
  hostedExchangeOf,
  isEmptyRef,
  matchRecipient,
  recipientsOf,
  type RecipientRef,
} from './recipients.js';
import type { ExchangeContactsTable } from './schema.js';

/** Contact fields the seed lists beyond name and address, kept as given. */
export const CONTACT_DETAILS = [
  'firstname',
  'lastname',
  'initials',
  'jobtitle',
  'companyname',
  'businessphone',
  'businessfax',
  'homephone',
  'mobile',
  'webpage',
  'street',
  'city',
  'state',
  'country',
  'postcode',
] as const;
export type ContactDetail = (typeof CONTACT_DETAILS)[number];

export interface Contact {
  id: number;
  displayname: string;
  syncObjectId: string | null;
  enabled: boolean;
  path: string;
  email: string;
  emailAlias: string;
  details: Partial<Record<ContactDetail, string>>;
  hideFromAddressLists: boolean;
}

export interface ContactQuery {
  displayNamePrefix?: string;
  syncObjectId?: string;
  page?: Page;
}

type ContactRow = Selectable<ExchangeContactsTable>;

/** The customer's mail contacts (seed: "Get Contacts"), filtered and paged. */
export async function contactsOf(db: Executor, customer: Customer, query: ContactQuery = {}): Promise<Contact[]> {
  await hostedExchangeOf(db, customer);
  const rows = await selectContacts(
    db,
    customer.id,
    { displayNamePrefix: query.displayNamePrefix, syncObjectId: query.syncObjectId },
    query.page ?? {},
  ).execute();
  const path = await directoryPaths(db, customer);
  return rows.map((r) => toContact(r, path('contact', r.displayname)));
}

function toContact(row: ContactRow, path: string): Contact {
  return {
    id: row.id,
    displayname: row.displayname,
    syncObjectId: row.sync_object_id,
    enabled: row.enabled,
    path,
    email: row.email,
    emailAlias: row.email_alias,
    details: row.details,
    hideFromAddressLists: row.hide_from_address_lists,
  };
}

export interface ContactInput extends RecipientRef {
  delete?: boolean;
  enabled?: boolean;
  emailAlias?: string;
  hideFromAddressLists?: boolean;
  details?: Partial<Record<ContactDetail, string>>;
}

/** Creates, changes or deletes contacts; each change is an update request on Hosted Exchange. */
export async function setContacts(tx: Tx, caller: Caller, customer: Customer, inputs: ContactInput[]): Promise<void> {
  requirePermission(caller, 'Manage Services');
  const he = await hostedExchangeOf(tx, customer);
  for (const input of inputs) {
    if (isEmptyRef(input)) throw new DomainError('InvalidReference', 'A contact needs a <displayname>, <email>, <path> or <syncobjectid>.');
    const found = matchRecipient(
      await recipientsOf(tx, customer, { contact: (await selectContacts(tx, customer.id).execute()).map((c) => c.id) }),
      input,
      ['contact'],
    );
    const existing = found && (await tx.selectFrom('exchange_contacts').selectAll().where('id', '=', found.id).executeTakeFirstOrThrow());
    let op: 'create' | 'update' | 'delete' | undefined;
    let id: number;
    if (input.delete) {
      if (!existing) throw new DomainError('InvalidReference', `Contact '${describeRecipient(input)}' not found.`);
      await removeRecipientEverywhere(tx, 'contact', existing.id);
      await tx.deleteFrom('exchange_contacts').where('id', '=', existing.id).execute();
      [op, id] = ['delete', existing.id];
    } else if (existing) {
      [op, id] = [(await updateContact(tx, existing, input)) ? 'update' : undefined, existing.id];
    } else {
      [op, id] = ['create', await createContact(tx, customer, he.id, input)];
    }
    if (op) {
      await createRequest(tx, caller, {
        entity: 'customer_service',
        entityId: he.id,
        customerId: customer.id,
        action: 'update',
        desired: { exchange: 'contact', id, op },
      });
    }
  }
}

async function createContact(tx: Tx, customer: Customer, customerServiceId: number, input: ContactInput): Promise<number> {
  const displayname = input.displayname?.trim();
  const email = input.email?.trim();
  if (!displayname || !email) throw new DomainError('InvalidProperty', 'A new contact needs a <displayname> and an <email>.');
  const row = await tx
    .insertInto('exchange_contacts')
    .values({
      customer_id: customer.id,
      customer_service_id: customerServiceId,
      displayname,
      sync_object_id: input.syncObjectId?.trim() || null,
      enabled: input.enabled ?? true,
      email,
      email_alias: input.emailAlias?.trim() || email.split('@')[0]!,
      details: JSON.stringify(cleanDetails(input.details ?? {})),
      hide_from_address_lists: input.hideFromAddressLists ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function updateContact(tx: Tx, row: ContactRow, input: ContactInput): Promise<boolean> {
  const next = {
    displayname: input.displayname?.trim() || row.displayname,
    sync_object_id: input.syncObjectId?.trim() || row.sync_object_id,
    enabled: input.enabled ?? row.enabled,
    email: input.email?.trim() || row.email,
    email_alias: input.emailAlias?.trim() || row.email_alias,
    details: JSON.stringify({ ...row.details, ...cleanDetails(input.details ?? {}) }),
    hide_from_address_lists: input.hideFromAddressLists ?? row.hide_from_address_lists,
  };
  const current = { ...row, details: JSON.stringify(row.details) } as Record<string, unknown>;
  if (Object.entries(next).every(([k, v]) => current[k] === v)) return false;
  await tx
    .updateTable('exchange_contacts')
    .set({ ...next, modified_at: new Date() })
    .where('id', '=', row.id)
    .execute();
  return true;
}

function cleanDetails(details: Partial<Record<ContactDetail, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(details)
      .filter(([k, v]) => (CONTACT_DETAILS as readonly string[]).includes(k) && v !== undefined)
      .map(([k, v]) => [k, v!.trim()]),
  );
}
