import type { Executor, Tx } from '../../core/db/database.js';
import type { GroupList, RecipientKind } from './schema.js';

export interface Page {
  /** 1-based. */
  index?: number;
  size?: number;
}

export interface GroupListFilter {
  displayNamePrefix?: string;
  emailPrefix?: string;
  syncObjectId?: string;
  ids?: number[];
}

const prefix = (v: string): string => v.replace(/[\\%_]/g, (c) => '\\' + c).toLowerCase() + '%';

export function selectGroups(db: Executor, customerId: number, filter: GroupListFilter = {}, page: Page = {}) {
  let q = db.selectFrom('exchange_groups').selectAll().where('customer_id', '=', customerId);
  if (filter.displayNamePrefix) q = q.where((eb) => eb(eb.fn('lower', ['displayname']), 'like', prefix(filter.displayNamePrefix!)));
  if (filter.emailPrefix) q = q.where((eb) => eb(eb.fn('lower', ['email']), 'like', prefix(filter.emailPrefix!)));
  if (filter.syncObjectId) q = q.where('sync_object_id', '=', filter.syncObjectId);
  if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : [-1]);
  q = q.orderBy('displayname').orderBy('id');
  if (page.size) q = q.limit(page.size).offset(Math.max(0, (page.index ?? 1) - 1) * page.size);
  return q;
}

export function selectEntries(db: Executor, groupIds: number[]) {
  return db
    .selectFrom('exchange_group_entries')
    .selectAll()
    .where('group_id', 'in', groupIds.length ? groupIds : [-1]);
}

export function selectGroupsWithMember(db: Executor, kind: RecipientKind, recipientId: number) {
  return db
    .selectFrom('exchange_group_entries')
    .select('group_id')
    .where('list', '=', 'member')
    .where('kind', '=', kind)
    .where('recipient_id', '=', recipientId);
}

export async function addEntry(tx: Tx, groupId: number, list: GroupList, kind: RecipientKind, recipientId: number): Promise<boolean> {
  const r = await tx
    .insertInto('exchange_group_entries')
    .values({ group_id: groupId, list, kind, recipient_id: recipientId })
    .onConflict((oc) => oc.doNothing())
    .returning('group_id')
    .executeTakeFirst();
  return r !== undefined;
}

export async function removeEntry(tx: Tx, groupId: number, list: GroupList, kind: RecipientKind, recipientId: number): Promise<boolean> {
  const r = await tx
    .deleteFrom('exchange_group_entries')
    .where('group_id', '=', groupId)
    .where('list', '=', list)
    .where('kind', '=', kind)
    .where('recipient_id', '=', recipientId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function clearList(tx: Tx, groupId: number, list: GroupList): Promise<void> {
  await tx.deleteFrom('exchange_group_entries').where('group_id', '=', groupId).where('list', '=', list).execute();
}

/** A deleted recipient leaves every list it was on. */
export async function removeRecipientEverywhere(tx: Tx, kind: RecipientKind, recipientId: number): Promise<void> {
  await tx.deleteFrom('exchange_group_entries').where('kind', '=', kind).where('recipient_id', '=', recipientId).execute();
}

export function selectContacts(
  db: Executor,
  customerId: number,
  filter: { displayNamePrefix?: string; syncObjectId?: string; ids?: number[] } = {},
  page: Page = {},
) {
  let q = db.selectFrom('exchange_contacts').selectAll().where('customer_id', '=', customerId);
  if (filter.displayNamePrefix) q = q.where((eb) => eb(eb.fn('lower', ['displayname']), 'like', prefix(filter.displayNamePrefix!)));
  if (filter.syncObjectId) q = q.where('sync_object_id', '=', filter.syncObjectId);
  if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : [-1]);
  q = q.orderBy('displayname').orderBy('id');
  if (page.size) q = q.limit(page.size).offset(Math.max(0, (page.index ?? 1) - 1) * page.size);
  return q;
}

/** Live users of a customer, as mail recipients. */
export function selectCustomerUsers(db: Executor, customerId: number, ids?: number[]) {
  let q = db
    .selectFrom('users')
    .select(['id', 'name', 'upn', 'display_name', 'first_name', 'last_name', 'enabled', 'properties', 'status'])
    .where('customer_id', '=', customerId)
    .where('deleted_at', 'is', null);
  if (ids) q = q.where('id', 'in', ids.length ? ids : [-1]);
  return q.orderBy('name');
}
