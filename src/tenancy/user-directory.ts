/**
 * Users as the console lists them: across the caller's subtree or one customer, searchable, sortable
 * and paged; a user by id with its customer; the roles a caller may hand out.
 */
import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { readPage, type PageQuery, type Paged } from '../core/db/paging.js';
import { must, userNotFound } from '../core/errors.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { customerInScope, escapeLike, type Caller } from './caller.js';
import { getCustomer, type Customer } from './customer.service.js';
import type { Permission } from './permissions.js';
import { fullnameOf, getUser, type User } from './user.service.js';

export const USER_SORTS = ['name', 'upn', 'displayName', 'customer', 'status', 'createdAt'] as const;
export type UserSort = (typeof USER_SORTS)[number];

export interface UserListQuery extends PageQuery {
  customerId?: number;
  search?: string;
  status?: ProvisioningStatus;
  enabled?: boolean;
  sort?: UserSort;
  order?: 'asc' | 'desc';
}

export interface UserListItem {
  id: number;
  name: string;
  upn: string;
  displayName: string;
  customer: { id: number; name: string };
  status: ProvisioningStatus;
  enabled: boolean;
  email: string | null;
  createdAt: Date;
}

const SORT_SQL: Record<UserSort, string> = {
  name: 'lower(users.name)',
  upn: 'lower(users.upn)',
  displayName: "lower(coalesce(users.display_name, concat_ws(' ', users.first_name, users.last_name)))",
  customer: 'lower(customers.name)',
  status: 'users.status',
  createdAt: 'users.created_at',
};

/** One page of users in the caller's reach (one customer's when `customerId` is given). */
export async function listUsers(db: Executor, caller: Caller, q: UserListQuery = {}): Promise<Paged<UserListItem>> {
  let base = db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .where('users.deleted_at', 'is', null)
    .where('customers.deleted_at', 'is', null)
    .where(customerInScope(caller));
  if (q.customerId !== undefined) base = base.where('users.customer_id', '=', (await getCustomer(db, caller, { id: q.customerId })).id);
  if (q.search) {
    const like = `%${escapeLike(q.search.trim().toLowerCase())}%`;
    base = base.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['users.name']), 'like', like),
        eb(eb.fn('lower', ['users.upn']), 'like', like),
        eb(eb.fn('lower', ['users.display_name']), 'like', like),
        eb(eb.fn('lower', [eb.fn('concat_ws', [eb.val(' '), 'users.first_name', 'users.last_name'])]), 'like', like),
        eb(eb.fn('lower', ['users.external_email']), 'like', like),
      ]),
    );
  }
  if (q.status) base = base.where('users.status', '=', q.status);
  if (q.enabled !== undefined) base = base.where('users.enabled', '=', q.enabled);
  const found = await readPage(
    q,
    25,
    ({ limit, offset }) =>
      base
        .selectAll('users')
        .select(['customers.name as customer_name'])
        .orderBy(sql.raw(`${SORT_SQL[q.sort ?? 'name']} ${q.order === 'desc' ? 'desc' : 'asc'} nulls last`))
        .orderBy('users.id')
        .limit(limit)
        .offset(offset)
        .execute(),
    () => base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
  return {
    ...found,
    items: found.items.map((r) => ({
      id: r.id,
      name: r.name,
      upn: r.upn,
      displayName: fullnameOf({ name: r.name, displayName: r.display_name, firstName: r.first_name, lastName: r.last_name }),
      customer: { id: r.customer_id, name: r.customer_name },
      status: r.status,
      enabled: r.enabled,
      email: r.external_email,
      createdAt: r.created_at,
    })),
  };
}

/** A user by id in the caller's reach, with its customer; another tenant's user is reported like a missing one. */
export async function getUserById(db: Executor, caller: Caller, id: number): Promise<{ user: User; customer: Customer }> {
  const row = must(
    await db
      .selectFrom('users')
      .innerJoin('customers', 'customers.id', 'users.customer_id')
      .select('users.customer_id')
      .where('users.id', '=', id)
      .where('users.deleted_at', 'is', null)
      .where('customers.deleted_at', 'is', null)
      .where(customerInScope(caller))
      .executeTakeFirst(),
    () => userNotFound(String(id)),
  );
  const customer = await getCustomer(db, caller, { id: row.customer_id });
  return { user: await getUser(db, caller, customer, { id }), customer };
}

export interface RoleInfo {
  name: string;
  description: string;
  permissions: Permission[];
}

/** Roles whose every permission the caller holds itself: the only ones it may grant. */
export async function grantableRoles(db: Executor, caller: Caller): Promise<RoleInfo[]> {
  const rows = await db
    .selectFrom('roles')
    .leftJoin('role_permissions', 'role_permissions.role_id', 'roles.id')
    .select(['roles.name', 'roles.description', 'role_permissions.permission'])
    .orderBy('roles.name')
    .execute();
  const roles = new Map<string, RoleInfo>();
  for (const r of rows) {
    const role = roles.get(r.name) ?? { name: r.name, description: r.description, permissions: [] };
    if (r.permission) role.permissions.push(r.permission as Permission);
    roles.set(r.name, role);
  }
  return [...roles.values()].filter((r) => r.permissions.every((p) => caller.permissions.has(p)));
}

/** The permissions a set of roles gives. */
export async function permissionsOfRoles(db: Executor, roleNames: string[]): Promise<Permission[]> {
  if (roleNames.length === 0) return [];
  const rows = await db
    .selectFrom('role_permissions')
    .innerJoin('roles', 'roles.id', 'role_permissions.role_id')
    .select('role_permissions.permission')
    .distinct()
    .where('roles.name', 'in', roleNames)
    .orderBy('role_permissions.permission')
    .execute();
  return rows.map((r) => r.permission as Permission);
}

/** When the user last signed in and whether it is locked out now (user detail page). */
export async function signInState(db: Executor, userId: number): Promise<{ lockedUntil: Date | null; lastLoginAt: Date | null }> {
  const row = await db.selectFrom('users').select(['locked_until', 'last_login_at']).where('id', '=', userId).executeTakeFirstOrThrow();
  return {
    lockedUntil: row.locked_until && row.locked_until.getTime() > Date.now() ? row.locked_until : null,
    lastLoginAt: row.last_login_at,
  };
}
