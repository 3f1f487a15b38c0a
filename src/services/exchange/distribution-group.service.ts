import type { Selectable } from 'kysely';
import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { createRequest } from '../../provisioning/requests.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import type { Customer } from '../../tenancy/customer.service.js';
import type { User } from '../../tenancy/user.service.js';
import {
  addEntry,
  clearList,
  removeEntry,
  removeRecipientEverywhere,
  selectEntries,
  selectGroups,
  selectGroupsWithMember,
  type Page,
} from './exchange.queries.js';
import {
  describeRecipient,
  directoryPaths,
  hostedExchangeOf,
  isEmptyRef,
  matchRecipient,
  recipientsOf,
  type Recipient,
  type RecipientRef,
} from './recipients.js';
import {
  GROUP_TYPES,
  MEMBERSHIP_RESTRICTIONS,
  type ExchangeGroupsTable,
  type GroupList,
  type GroupType,
  type MembershipRestriction,
} from './schema.js';

export const MEMBER_LISTS: readonly GroupList[] = ['member', 'sendas', 'accepted', 'rejected'];

export interface DistributionGroup {
  id: number;
  displayname: string;
  syncObjectId: string | null;
  enabled: boolean;
  path: string;
  email: string;
  emailAlias: string;
  mailtip: string | null;
  groupType: GroupType;
  hideFromAddressLists: boolean;
  requireSenderAuthentication: boolean;
  memberJoinRestriction: MembershipRestriction;
  memberDepartRestriction: MembershipRestriction;
  sendModerationNotifications: boolean;
  emailAddresses: string[];
  owners: Recipient[];
  /** Only the lists the query asked for are present. */
  lists: Partial<Record<GroupList, ListEntry[]>>;
}

/** An entry of a member list; `exists`/`selected` answer a probe for a remote object (seed: sync). */
export interface ListEntry {
  recipient: Recipient | undefined;
  ref: RecipientRef;
  exists: boolean;
  selected: boolean;
}

export interface GroupQuery {
  displayNamePrefix?: string;
  emailPrefix?: string;
  page?: Page;
  /** Selects one group (a remote object's id, path, email or name). */
  group?: RecipientRef;
  lists?: GroupList[];
  /** Remote objects to report on in the member lists (exists / is a member), instead of the full lists. */
  probe?: Partial<Record<GroupList, RecipientRef[]>>;
}

type GroupRow = Selectable<ExchangeGroupsTable>;

/** The customer's distribution groups (seed: "Get Distribution Groups"), filtered and paged. */
export async function distributionGroupsOf(db: Executor, customer: Customer, query: GroupQuery = {}): Promise<DistributionGroup[]> {
  await hostedExchangeOf(db, customer);
  let rows = await selectGroups(
    db,
    customer.id,
    { displayNamePrefix: query.displayNamePrefix, emailPrefix: query.emailPrefix },
    query.page ?? {},
  ).execute();
  if (query.group && !isEmptyRef(query.group)) {
    const all = await recipientsOf(db, customer, { group: rows.map((r) => r.id) });
    const found = matchRecipient(all, query.group, ['group']);
    rows = rows.filter((r) => r.id === found?.id);
  }
  return viewGroups(db, customer, rows, query);
}

/** The groups a user is a member of (seed: "Get Distribution Groups of which the User is a Member"). */
export async function distributionGroupsOfUser(db: Executor, customer: Customer, user: User): Promise<DistributionGroup[]> {
  await hostedExchangeOf(db, customer);
  const ids = (await selectGroupsWithMember(db, 'user', user.id).execute()).map((r) => r.group_id);
  return viewGroups(db, customer, await selectGroups(db, customer.id, { ids }).execute(), {});
}

async function viewGroups(db: Executor, customer: Customer, rows: GroupRow[], query: GroupQuery): Promise<DistributionGroup[]> {
  if (rows.length === 0) return [];
  const entries = await selectEntries(
    db,
    rows.map((r) => r.id),
  ).execute();
  const recipients = await recipientsOf(db, customer);
  const byKey = new Map(recipients.map((r) => [`${r.kind}:${r.id}`, r]));
  const path = await directoryPaths(db, customer);
  const out: DistributionGroup[] = [];
  for (const row of rows) {
    const mine = entries.filter((e) => e.group_id === row.id);
    const listOf = (list: GroupList) =>
      mine
        .filter((e) => e.list === list)
        .map((e) => byKey.get(`${e.kind}:${e.recipient_id}`))
        .filter((r): r is Recipient => r !== undefined);
    const lists: DistributionGroup['lists'] = {};
    for (const list of query.lists ?? []) {
      const current = listOf(list);
      const probe = query.probe?.[list];
      lists[list] = probe?.length
        ? probe.map((ref) => {
            const recipient = matchRecipient(recipients, ref);
            return {
              recipient,
              ref,
              exists: recipient !== undefined,
              selected: recipient !== undefined && current.some((c) => c === recipient),
            };
          })
        : current.map((recipient) => ({ recipient, ref: {}, exists: true, selected: true }));
    }
    out.push({ ...toGroup(row, path('group', row.displayname)), owners: listOf('owner'), lists });
  }
  return out;
}

function toGroup(row: GroupRow, path: string): Omit<DistributionGroup, 'owners' | 'lists'> {
  return {
    id: row.id,
    displayname: row.displayname,
    syncObjectId: row.sync_object_id,
    enabled: row.enabled,
    path,
    email: row.email,
    emailAlias: row.email_alias,
    mailtip: row.mailtip,
    groupType: row.group_type,
    hideFromAddressLists: row.hide_from_address_lists,
    requireSenderAuthentication: row.require_sender_authentication,
    memberJoinRestriction: row.member_join_restriction,
    memberDepartRestriction: row.member_depart_restriction,
    sendModerationNotifications: row.send_moderation_notifications,
    emailAddresses: row.email_addresses,
  };
}

export interface ListChange {
  ref: RecipientRef;
  /** True adds, false removes (seed: <selected>). */
  selected: boolean;
}

export interface GroupInput extends RecipientRef {
  delete?: boolean;
  enabled?: boolean;
  emailAlias?: string;
  mailtip?: string;
  groupType?: string;
  hideFromAddressLists?: boolean;
  requireSenderAuthentication?: boolean;
  memberJoinRestriction?: string;
  memberDepartRestriction?: string;
  sendModerationNotifications?: boolean;
  /** Replaces every address when given. */
  emailAddresses?: string[];
  /** Replaces the owners when given (users only). */
  owners?: RecipientRef[];
  /** Adds or removes the listed entries; entries not mentioned stay. */
  changes?: Partial<Record<GroupList, ListChange[]>>;
}

/**
 * Creates, changes or deletes distribution groups of a customer. Each group that changes gets
 * an update request on the customer's Hosted Exchange service, which carries it to Exchange.
 */
export async function setDistributionGroups(tx: Tx, caller: Caller, customer: Customer, inputs: GroupInput[]): Promise<void> {
  requirePermission(caller, 'Manage Services');
  const he = await hostedExchangeOf(tx, customer);
  for (const input of inputs) {
    const existing = await findGroup(tx, customer, input);
    if (input.delete) {
      if (!existing) throw new DomainError('InvalidReference', `Distribution group '${describeRecipient(input)}' not found.`);
      await removeRecipientEverywhere(tx, 'group', existing.id);
      await tx.deleteFrom('exchange_groups').where('id', '=', existing.id).execute();
      await recordChange(tx, caller, customer, he.id, existing.id, 'delete');
      continue;
    }
    const id = existing ? existing.id : await createGroup(tx, customer, he.id, input);
    const fieldsChanged = existing ? await updateGroup(tx, existing, input) : true;
    const listsChanged = await applyLists(tx, customer, id, input);
    // A GET sent back as a SET changes nothing and so asks nothing of Exchange.
    if (fieldsChanged || listsChanged) await recordChange(tx, caller, customer, he.id, id, existing ? 'update' : 'create');
  }
}

/** Adds a user to, or removes it from, groups named by path, name, email or sync id (seed: user-level SET). */
export async function setUserDistributionGroups(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  user: User,
  changes: ListChange[],
): Promise<void> {
  const inputs = changes.map((c) => ({ ...c.ref, changes: { member: [{ ref: { email: user.upn }, selected: c.selected }] } }));
  for (const input of inputs) {
    if (!(await findGroup(tx, customer, input)))
      throw new DomainError('InvalidReference', `Distribution group '${describeRecipient(input)}' not found.`);
  }
  await setDistributionGroups(tx, caller, customer, inputs);
}

async function findGroup(db: Executor, customer: Customer, ref: RecipientRef): Promise<GroupRow | undefined> {
  if (isEmptyRef(ref))
    throw new DomainError('InvalidReference', 'A distribution group needs a <displayname>, <email>, <path> or <syncobjectid>.');
  const found = matchRecipient(
    await recipientsOf(db, customer, { group: (await selectGroups(db, customer.id).execute()).map((g) => g.id) }),
    ref,
    ['group'],
  );
  return found && groupRow(db, found.id);
}

function groupRow(db: Executor, id: number): Promise<GroupRow> {
  return db.selectFrom('exchange_groups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

function pick<T extends string>(allowed: readonly T[], value: string | undefined, what: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) throw new DomainError('InvalidProperty', `<${what}> must be one of ${allowed.join(', ')}; got '${value}'.`);
  return found;
}

function groupColumns(input: GroupInput) {
  const set: Partial<Record<keyof ExchangeGroupsTable, unknown>> = {};
  if (input.syncObjectId) set.sync_object_id = input.syncObjectId;
  if (input.enabled !== undefined) set.enabled = input.enabled;
  if (input.emailAlias) set.email_alias = input.emailAlias;
  if (input.mailtip !== undefined) set.mailtip = input.mailtip;
  const groupType = pick(GROUP_TYPES, input.groupType, 'grouptype');
  if (groupType) set.group_type = groupType;
  if (input.hideFromAddressLists !== undefined) set.hide_from_address_lists = input.hideFromAddressLists;
  if (input.requireSenderAuthentication !== undefined) set.require_sender_authentication = input.requireSenderAuthentication;
  const join = pick(MEMBERSHIP_RESTRICTIONS, input.memberJoinRestriction, 'memberjoinrestriction');
  if (join) set.member_join_restriction = join;
  const depart = pick(MEMBERSHIP_RESTRICTIONS, input.memberDepartRestriction, 'memberdepartrestriction');
  if (depart) set.member_depart_restriction = depart;
  if (input.sendModerationNotifications !== undefined) set.send_moderation_notifications = input.sendModerationNotifications;
  if (input.emailAddresses) set.email_addresses = JSON.stringify(input.emailAddresses.map((a) => a.trim()).filter(Boolean));
  return set as Record<string, never>;
}

async function createGroup(tx: Tx, customer: Customer, customerServiceId: number, input: GroupInput): Promise<number> {
  const displayname = input.displayname?.trim();
  if (!displayname) throw new DomainError('InvalidProperty', 'A new distribution group needs a <displayname>.');
  const alias = input.emailAlias?.trim() || displayname.replace(/[^A-Za-z0-9._-]+/g, '');
  const email = input.email?.trim() || `${alias}@${customer.primaryDomain}`;
  await assertFreeAddress(tx, email);
  const row = await tx
    .insertInto('exchange_groups')
    .values({
      customer_id: customer.id,
      customer_service_id: customerServiceId,
      displayname,
      email,
      email_alias: alias,
      email_addresses: JSON.stringify([`SMTP:${email}`]),
      ...groupColumns(input),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function updateGroup(tx: Tx, row: GroupRow, input: GroupInput): Promise<boolean> {
  const set: Record<string, unknown> = groupColumns(input);
  // A group found by path, email or sync id may be renamed by its <displayname>.
  if (input.displayname?.trim() && input.displayname.trim() !== row.displayname) set.displayname = input.displayname.trim();
  if (input.email?.trim() && input.email.trim().toLowerCase() !== row.email.toLowerCase()) {
    await assertFreeAddress(tx, input.email.trim());
    set.email = input.email.trim();
  }
  const current = row as unknown as Record<string, unknown>;
  const changed = Object.entries(set).filter(([k, v]) => (k === 'email_addresses' ? JSON.stringify(current[k]) !== v : current[k] !== v));
  if (changed.length)
    await tx
      .updateTable('exchange_groups')
      .set({ ...(Object.fromEntries(changed) as Record<string, never>), modified_at: new Date() })
      .where('id', '=', row.id)
      .execute();
  return changed.length > 0;
}

async function assertFreeAddress(tx: Tx, email: string): Promise<void> {
  const clash = await tx
    .selectFrom('exchange_groups')
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
  if (clash) throw new DomainError('InvalidProperty', `The address '${email}' is already used by another distribution group.`);
}

async function applyLists(tx: Tx, customer: Customer, groupId: number, input: GroupInput): Promise<boolean> {
  const recipients = await recipientsOf(tx, customer);
  const resolve = (ref: RecipientRef, kinds?: Recipient['kind'][]) => {
    const r = matchRecipient(recipients, ref, kinds);
    if (!r) throw new DomainError('InvalidReference', `Recipient '${describeRecipient(ref)}' not found in customer '${customer.name}'.`);
    if (r.kind === 'group' && r.id === groupId) throw new DomainError('InvalidReference', 'A distribution group cannot contain itself.');
    return r;
  };
  let changed = false;
  if (input.owners) {
    // seed: the owner list is replaced as a whole; owners are users only.
    const owners = input.owners.filter((o) => !isEmptyRef(o)).map((o) => resolve(o, ['user']));
    await clearList(tx, groupId, 'owner');
    for (const o of owners) await addEntry(tx, groupId, 'owner', o.kind, o.id);
    changed = true;
  }
  for (const list of MEMBER_LISTS) {
    for (const change of input.changes?.[list] ?? []) {
      if (isEmptyRef(change.ref)) continue;
      const r = resolve(change.ref);
      changed =
        (change.selected ? await addEntry(tx, groupId, list, r.kind, r.id) : await removeEntry(tx, groupId, list, r.kind, r.id)) || changed;
    }
  }
  return changed;
}

async function recordChange(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  customerServiceId: number,
  groupId: number,
  op: 'create' | 'update' | 'delete',
): Promise<void> {
  await createRequest(tx, caller, {
    entity: 'customer_service',
    entityId: customerServiceId,
    customerId: customer.id,
    action: 'update',
    desired: { exchange: 'distributiongroup', id: groupId, op },
  });
}
