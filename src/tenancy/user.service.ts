import { assertFieldLengths, assertPropertyMap, MAX_PASSWORD_LENGTH, type FieldLimits } from '../core/field-limits.js';
import { sql, type Selectable } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must, userNotFound } from '../core/errors.js';
import { generatePassword, hashPassword } from '../core/crypto.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createRequest } from '../provisioning/requests.js';
import { recordServiceChange } from '../billing/ledger/record-change.js';
import { assertCustomerInScope, customerInScope, requirePermission, type Caller } from './caller.js';
import { getCustomer, type Customer } from './customer.service.js';
import type { CustomerRef } from './customer.queries.js';
import type { UsersTable } from './schema.js';
import { ROLE } from './permissions.js';
import { assertMayAssignRoles, assertMayManageUser } from './role-grants.js';
import { credentialsChanged } from './sign-in/credential-events.js';

export type UserRow = Selectable<UsersTable>;

export interface User {
  id: number;
  customerId: number;
  name: string;
  upn: string;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  externalEmail: string | null;
  department: string;
  location: string;
  changeAtNextLogon: boolean;
  passwordExpires: Date | null;
  passwordNeverExpires: boolean;
  accountExpires: Date | null;
  enabled: boolean;
  status: ProvisioningStatus;
  properties: Record<string, string>;
  additionalProperties: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    customerId: row.customer_id,
    name: row.name,
    upn: row.upn,
    firstName: row.first_name,
    lastName: row.last_name,
    displayName: row.display_name,
    externalEmail: row.external_email,
    department: row.department,
    location: row.location,
    changeAtNextLogon: row.change_at_next_logon,
    passwordExpires: row.password_expires,
    passwordNeverExpires: row.password_never_expires,
    accountExpires: row.account_expires,
    enabled: row.enabled,
    status: row.status,
    properties: row.properties,
    additionalProperties: row.additional_properties,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

/** The name shown for a user: display name, else first + last, else the user name. */
export function fullnameOf(user: Pick<User, 'displayName' | 'firstName' | 'lastName' | 'name'>): string {
  if (user.displayName) return user.displayName;
  const joined = [user.firstName, user.lastName].filter(Boolean).join(' ');
  return joined || user.name.replace(/_[^_]+$/, '');
}

export interface UserRef {
  id?: number;
  name?: string;
  upn?: string;
  fullname?: string;
}

export interface UserFilter extends UserRef {
  location?: string;
  department?: string;
  status?: string;
}

export interface PasswordInput {
  password?: string;
  changeAtNextLogon?: boolean;
  /** Password expiry date, or 'never'. */
  expires?: Date | 'never' | null;
}

export interface UserFields {
  upn?: string;
  firstName?: string | null;
  lastName?: string | null;
  displayName?: string | null;
  externalEmail?: string | null;
  department?: string;
  location?: string;
  accountExpires?: Date | null;
  enabled?: boolean;
  properties?: Record<string, string>;
  additionalProperties?: Record<string, string>;
  roles?: string[];
  password?: PasswordInput;
}

export interface NewUser extends UserFields {
  /** Given name; stored as <name>_<customer code>. */
  name?: string;
}

/** Most characters per user field (docs/security.md): the directory attributes they become. */
export const USER_FIELD_LIMITS: FieldLimits = {
  name: 64,
  upn: 256,
  firstName: 64,
  lastName: 64,
  displayName: 256,
  externalEmail: 256,
  department: 64,
  location: 64,
};

function assertUserFields(fields: NewUser): void {
  assertFieldLengths('InvalidUser', 'user', fields, USER_FIELD_LIMITS);
  assertPropertyMap('user', 'properties', fields.properties);
  assertPropertyMap('user', 'additionalProperties', fields.additionalProperties);
  const password = fields.password?.password;
  // Hashing is deliberately slow: a megabyte "password" would be a megabyte of scrypt input per try.
  if (password !== undefined && password.length > MAX_PASSWORD_LENGTH) {
    throw new DomainError('InvalidUser', `The password is longer than ${MAX_PASSWORD_LENGTH} characters.`, { field: 'password' });
  }
}

/** User names carry the customer's short code: "User1" in BAC is "User1_BAC". */
export function qualifiedUserName(given: string, customerCode: string): string {
  const suffix = `_${customerCode}`;
  return given.toLowerCase().endsWith(suffix.toLowerCase()) ? given : `${given}${suffix}`;
}

export function baseUserName(name: string, customerCode: string): string {
  const suffix = `_${customerCode}`;
  return name.toLowerCase().endsWith(suffix.toLowerCase()) ? name.slice(0, -suffix.length) : name;
}

function scopedUsers(db: Executor, caller: Caller) {
  return db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .where('users.deleted_at', 'is', null)
    .where('customers.deleted_at', 'is', null)
    .where(customerInScope(caller));
}

function whereUser(customer: Customer, ref: UserFilter) {
  return <Q extends ReturnType<typeof scopedUsers>>(q: Q): Q => {
    let r = q.where('users.customer_id', '=', customer.id) as Q;
    if (ref.id !== undefined) r = r.where('users.id', '=', ref.id) as Q;
    if (ref.name !== undefined) {
      const name = qualifiedUserName(ref.name, customer.name).toLowerCase();
      r = r.where((eb) => eb(eb.fn('lower', ['users.name']), '=', name)) as Q;
    }
    if (ref.upn !== undefined) r = r.where((eb) => eb(eb.fn('lower', ['users.upn']), '=', ref.upn!.toLowerCase())) as Q;
    if (ref.fullname !== undefined) {
      const f = ref.fullname.toLowerCase();
      r = r.where((eb) =>
        eb.or([
          eb(eb.fn('lower', ['users.display_name']), '=', f),
          eb(eb.fn('lower', [eb.fn('concat_ws', [eb.val(' '), 'users.first_name', 'users.last_name'])]), '=', f),
        ]),
      ) as Q;
    }
    if (ref.location !== undefined) r = r.where((eb) => eb(eb.fn('lower', ['users.location']), '=', ref.location!.toLowerCase())) as Q;
    if (ref.department !== undefined)
      r = r.where((eb) => eb(eb.fn('lower', ['users.department']), '=', ref.department!.toLowerCase())) as Q;
    if (ref.status !== undefined) r = r.where('users.status', '=', ref.status as never) as Q;
    return r;
  };
}

export async function findUsers(db: Executor, caller: Caller, customer: Customer, filter: UserFilter = {}): Promise<User[]> {
  const rows = await whereUser(customer, filter)(scopedUsers(db, caller)).selectAll('users').orderBy('users.id').execute();
  return rows.map(toUser);
}

/** A selector that names no user would match the first one; it is refused instead (issue 16). */
function assertUserSelected(ref: UserRef): void {
  if (ref.id === undefined && !ref.name && !ref.upn && !ref.fullname) {
    throw new DomainError('InvalidUser', 'A user must be selected by <id>, <name>, <upn> or <fullname>.');
  }
}

export async function findUser(db: Executor, caller: Caller, customer: Customer, ref: UserRef): Promise<User | undefined> {
  assertUserSelected(ref);
  const row = await whereUser(customer, ref)(scopedUsers(db, caller)).selectAll('users').orderBy('users.id').executeTakeFirst();
  return row && toUser(row);
}

export async function getUser(db: Executor, caller: Caller, customer: Customer, ref: UserRef): Promise<User> {
  return must(await findUser(db, caller, customer, ref), () => userNotFound(ref.name ?? ref.upn ?? ref.fullname ?? String(ref.id ?? '')));
}

export async function userRoles(db: Executor, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select('roles.name')
    .where('user_roles.user_id', '=', userId)
    .orderBy('roles.name')
    .execute();
  return rows.map((r) => r.name);
}

/**
 * Creates a user in a customer. The first user of a customer becomes its administrator.
 * Returns the generated password when none was given, so the caller can hand it over once.
 */
export async function createUser(
  tx: Tx,
  caller: Caller,
  customerRef: CustomerRef | Customer,
  input: NewUser,
): Promise<{ user: User; requestId: number; generatedPassword: string | undefined }> {
  requirePermission(caller, 'Manage Users');
  assertUserFields(input);
  const customer = 'path' in customerRef ? customerRef : await getCustomer(tx, caller, customerRef);
  assertCustomerInScope(caller, customer);
  const given = (input.name ?? input.upn?.split('@')[0] ?? '').trim();
  if (given === '') throw new DomainError('InvalidUser', 'A new user must specify a name or a upn.', { field: 'name' });
  if (!/^[A-Za-z0-9._'-]+$/.test(given)) throw new DomainError('InvalidUser', `The user name '${given}' is not valid.`, { field: 'name' });
  const name = qualifiedUserName(given, customer.name);
  const upn = (input.upn ?? `${baseUserName(given, customer.name)}@${customer.primaryDomain}`).trim();
  assertOwnDomain(upn, customer);
  await assertUnique(tx, name, upn);
  const generatedPassword = input.password?.password ? undefined : generatePassword();
  const passwordHash = await hashPassword(input.password?.password ?? generatedPassword!);
  const row = await tx
    .insertInto('users')
    .values({
      customer_id: customer.id,
      name,
      upn,
      ...userColumns(input),
      password_hash: passwordHash,
      status: 'Requested',
    })
    .returningAll()
    // The statement's snapshot predates its own row: this counts the customer's other users.
    .returning(sql<number>`(select count(*) from users where customer_id = ${customer.id} and deleted_at is null)`.as('others'))
    .executeTakeFirstOrThrow();
  const roles =
    input.roles ??
    (Number(row.others) === 0
      ? [customer.isReseller || customer.parentId === null ? adminRoleFor(customer) : ROLE.customerAdmin]
      : [ROLE.user]);
  await setRoles(tx, caller, row.id, roles, { newUser: true });
  await recordServiceChange(tx, caller, { action: 'user_created', customerId: customer.id, userId: row.id });
  const requestId = await createRequest(tx, caller, {
    entity: 'user',
    entityId: row.id,
    customerId: customer.id,
    action: 'provision',
    desired: { passwordSet: true },
    secrets: { password: input.password?.password ?? generatedPassword },
  });
  return { user: toUser(row), requestId, generatedPassword };
}

function adminRoleFor(customer: Customer): string {
  return customer.parentId === null ? ROLE.providerAdmin : ROLE.resellerAdmin;
}

/**
 * A UPN must be in the customer's own domain (its primary domain or a subdomain of it): a tenant
 * cannot squat another tenant's addresses. Checked before uniqueness, so a foreign UPN is refused
 * without saying whether it exists (docs/decisions.md).
 */
function assertOwnDomain(upn: string, customer: Customer): void {
  const at = upn.lastIndexOf('@');
  const domain = at > 0 ? upn.slice(at + 1).toLowerCase() : '';
  const own = customer.primaryDomain.toLowerCase();
  if (domain !== own && !domain.endsWith(`.${own}`)) {
    throw new DomainError('InvalidUser', `The upn '${upn}' must be in the customer's domain '${customer.primaryDomain}'.`);
  }
}

async function assertUnique(tx: Tx, name: string, upn: string, exceptId?: number): Promise<void> {
  let q = tx
    .selectFrom('users')
    .select(['name', 'upn'])
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb(eb.fn('lower', ['name']), '=', name.toLowerCase()), eb(eb.fn('lower', ['upn']), '=', upn.toLowerCase())]));
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  const clash = await q.executeTakeFirst();
  if (clash) {
    const field = clash.name.toLowerCase() === name.toLowerCase() ? 'name' : 'upn';
    throw new DomainError('InvalidUser', `A user with the ${field === 'name' ? `name '${name}'` : `upn '${upn}'`} already exists.`, {
      field,
    });
  }
}

function userColumns(f: UserFields): Record<string, never> {
  const set: Record<string, unknown> = {};
  if (f.firstName !== undefined) set.first_name = f.firstName;
  if (f.lastName !== undefined) set.last_name = f.lastName;
  if (f.displayName !== undefined) set.display_name = f.displayName;
  if (f.externalEmail !== undefined) set.external_email = f.externalEmail;
  if (f.department !== undefined) set.department = f.department;
  if (f.location !== undefined) set.location = f.location;
  if (f.accountExpires !== undefined) set.account_expires = f.accountExpires;
  if (f.enabled !== undefined) set.enabled = f.enabled;
  if (f.properties !== undefined) set.properties = JSON.stringify(f.properties);
  if (f.additionalProperties !== undefined) set.additional_properties = JSON.stringify(f.additionalProperties);
  if (f.password?.changeAtNextLogon !== undefined) set.change_at_next_logon = f.password.changeAtNextLogon;
  if (f.password?.expires !== undefined) {
    set.password_never_expires = f.password.expires === 'never';
    set.password_expires = f.password.expires === 'never' ? null : f.password.expires;
  }
  return set as Record<string, never>;
}

export async function setRoles(
  tx: Tx,
  caller: Caller,
  userId: number,
  roleNames: string[],
  opts: { newUser?: boolean } = {},
): Promise<void> {
  const roles = roleNames.length
    ? await tx
        .selectFrom('roles')
        .select(['id', 'name'])
        .where((eb) =>
          eb(
            eb.fn('lower', ['name']),
            'in',
            roleNames.map((r) => r.toLowerCase()),
          ),
        )
        .execute()
    : [];
  const missing = roleNames.filter((n) => !roles.some((r) => r.name.toLowerCase() === n.toLowerCase()));
  if (missing.length) throw new DomainError('RoleNotFound', `Role '${missing[0]}' not found.`, { field: 'roles' });
  await assertMayAssignRoles(tx, caller, userId, roles);
  // A new user has no roles to replace, and no sign-in of it can be cached anywhere yet.
  if (!opts.newUser) await tx.deleteFrom('user_roles').where('user_id', '=', userId).execute();
  if (roles.length)
    await tx
      .insertInto('user_roles')
      .values(roles.map((r) => ({ user_id: userId, role_id: r.id })))
      .execute();
  if (!opts.newUser) await credentialsChanged(tx, { userId });
}

/** Applies changed fields; returns undefined requestId when the SET changed nothing. */
export async function updateUser(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  ref: UserRef,
  fields: UserFields,
): Promise<{ user: User; requestId: number | undefined }> {
  requirePermission(caller, 'Manage Users');
  assertUserFields(fields);
  const current = await getUser(tx, caller, customer, ref);
  await assertMayManageUser(tx, caller, current.id);
  const set = userColumns(fields) as Record<string, unknown>;
  if (fields.upn !== undefined && fields.upn !== current.upn) {
    assertOwnDomain(fields.upn, customer);
    await assertUnique(tx, current.name, fields.upn, current.id);
    set.upn = fields.upn;
  }
  if (fields.password?.password) set.password_hash = await hashPassword(fields.password.password);
  const before = toColumnsSnapshot(current);
  const changed = Object.keys(set).filter((k) => k === 'password_hash' || !sameValue(before[k], set[k]));
  let rolesChanged = false;
  if (fields.roles !== undefined) {
    const now = await userRoles(tx, current.id);
    rolesChanged =
      now
        .map((r) => r.toLowerCase())
        .sort()
        .join('|') !==
      fields.roles
        .map((r) => r.toLowerCase())
        .sort()
        .join('|');
    if (rolesChanged) await setRoles(tx, caller, current.id, fields.roles);
  }
  if (changed.length === 0 && !rolesChanged) return { user: current, requestId: undefined };
  const row = changed.length
    ? await tx
        .updateTable('users')
        .set({ ...(Object.fromEntries(changed.map((k) => [k, set[k]])) as Record<string, never>), modified_at: new Date() })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await tx.selectFrom('users').selectAll().where('id', '=', current.id).executeTakeFirstOrThrow();
  if (changed.includes('password_hash') || changed.includes('enabled')) await credentialsChanged(tx, { userId: current.id });
  if (set.enabled === false && current.enabled)
    await recordServiceChange(tx, caller, { action: 'user_disabled', customerId: customer.id, userId: current.id });
  if (set.enabled === true && !current.enabled)
    await recordServiceChange(tx, caller, { action: 'user_enabled', customerId: customer.id, userId: current.id });
  const requestId = await createRequest(tx, caller, {
    entity: 'user',
    entityId: current.id,
    customerId: customer.id,
    action: 'update',
    desired: { changed: changed.map((c) => (c === 'password_hash' ? 'password' : c)) },
    secrets: { password: fields.password?.password || undefined },
  });
  return { user: toUser(row), requestId };
}

/** The user's current values as columns, mapped the same way as the fields of a change. */
function toColumnsSnapshot(u: User): Record<string, unknown> {
  return userColumns({
    ...u,
    password: { changeAtNextLogon: u.changeAtNextLogon, expires: u.passwordNeverExpires ? 'never' : u.passwordExpires },
  });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return (a as Date | null)?.getTime?.() === (b as Date | null)?.getTime?.();
  return a === b;
}

/** Deletes a user; Atria requires every customer to keep at least one user. */
export async function deleteUser(tx: Tx, caller: Caller, customer: Customer, ref: UserRef): Promise<number> {
  requirePermission(caller, 'Manage Users');
  const user = await getUser(tx, caller, customer, ref);
  const { n } = await tx
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('customer_id', '=', customer.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  if (Number(n) <= 1) throw new DomainError('InvalidUser', 'Unable to delete the last user from the customer');
  if (user.id === caller.userId) throw new DomainError('InvalidUser', 'A user cannot delete itself.');
  await assertMayManageUser(tx, caller, user.id);
  const now = new Date();
  await tx.updateTable('users').set({ deleted_at: now, modified_at: now, enabled: false }).where('id', '=', user.id).execute();
  await credentialsChanged(tx, { userId: user.id });
  await recordServiceChange(tx, caller, { action: 'user_deleted', customerId: customer.id, userId: user.id, quantity: '0' });
  return createRequest(tx, caller, { entity: 'user', entityId: user.id, customerId: customer.id, action: 'delete' });
}
