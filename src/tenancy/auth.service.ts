import type { Executor } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { verifyPassword } from '../core/crypto.js';
import type { Caller } from './caller.js';
import type { Permission } from './permissions.js';

const MAX_FAILURES = 5;
const LOCKOUT_MS = 15 * 60 * 1000;

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

/**
 * Checks a user name (or UPN) and password. The provider's admin may log in with the bare
 * name it was configured with ("admin" for "admin_SP"). Repeated failures lock the account
 * for a while; the error never says which part was wrong.
 */
export async function authenticate(db: Executor, login: string, password: string): Promise<Caller> {
  const fail = new DomainError('NotAuthenticated', 'The user authentication failed');
  const lower = login.trim().toLowerCase();
  if (!lower) throw fail;
  const candidates = await db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.id', 'users.password_hash', 'users.locked_until', 'users.failed_logins', 'customers.parent_id', 'users.name'])
    .where('users.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['users.name']), '=', lower),
        eb(eb.fn('lower', ['users.upn']), '=', lower),
        eb.and([eb('customers.parent_id', 'is', null), eb(eb.fn('lower', ['users.name']), 'like', `${lower.replace(/[\\%_]/g, '\\$&')}\\_%`)]),
      ]),
    )
    .orderBy('users.id')
    .execute();
  const user = candidates.find((c) => c.name.toLowerCase() === lower) ?? candidates[0];
  if (!user) throw fail;
  if (user.locked_until && user.locked_until.getTime() > Date.now()) throw fail;
  if (!(await verifyPassword(password, user.password_hash))) {
    const failures = user.failed_logins + 1;
    await db
      .updateTable('users')
      .set({ failed_logins: failures >= MAX_FAILURES ? 0 : failures, locked_until: failures >= MAX_FAILURES ? new Date(Date.now() + LOCKOUT_MS) : null })
      .where('id', '=', user.id)
      .execute();
    throw fail;
  }
  await db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_login_at: new Date() }).where('id', '=', user.id).execute();
  const caller = await callerForUser(db, user.id);
  if (!caller) throw fail;
  return caller;
}
