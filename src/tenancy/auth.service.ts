import type { Executor } from '../core/db/database.js';
import type { Caller } from './caller.js';
import type { Permission } from './permissions.js';

/** Builds the caller for an enabled user of an enabled, non-deleted customer. */
export async function callerForUser(db: Executor, userId: number): Promise<Caller | undefined> {
  const row = await db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.id', 'users.name', 'users.customer_id', 'customers.path'])
    .where('users.id', '=', userId)
    .where('users.enabled', '=', true)
    .where('users.deleted_at', 'is', null)
    .where('customers.enabled', '=', true)
    .where('customers.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const perms = await db
    .selectFrom('user_roles')
    .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .select('role_permissions.permission')
    .distinct()
    .where('user_roles.user_id', '=', userId)
    .execute();
  const permissions = new Set(perms.map((p) => p.permission as Permission));
  return {
    userId: row.id,
    userName: row.name,
    customerId: row.customer_id,
    customerPath: row.path,
    subtree: permissions.has('Manage Subtree'),
    permissions,
  };
}

/** Why a user who exists cannot act: its own flag or its customer's (undefined when deleted or not refused). */
export type Disabled = 'user' | 'customer';

export async function disabledReason(db: Executor, userId: number): Promise<Disabled | undefined> {
  const row = await db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.enabled as user_enabled', 'customers.enabled as customer_enabled'])
    .where('users.id', '=', userId)
    .where('users.deleted_at', 'is', null)
    .where('customers.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  if (!row.user_enabled) return 'user';
  return row.customer_enabled ? undefined : 'customer';
}
