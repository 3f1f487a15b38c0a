import type { Executor } from '../core/db/database.js';
import { DomainError, userNotFound } from '../core/errors.js';
import { pathInScope, type Caller } from './caller.js';
import type { Permission } from './permissions.js';

/**
 * Who may hand out which role (issue 16, docs/security.md "Roles"):
 * - a caller grants only roles whose every permission it holds itself, to users in its reach;
 * - a caller changes or deletes only users whose permissions it holds itself, so an administrator
 *   cannot be demoted, re-passworded or removed by someone with less power (its own account included:
 *   a change to one's own roles is just a grant like any other);
 * - roles that reach beyond one customer go only to users of a customer that can use them: reseller-level
 *   permissions to a reseller (or the provider), platform-wide permissions to the provider's own users.
 */
const PROVIDER_LEVEL: readonly Permission[] = ['Manage Catalog', 'Manage Billing', 'Manage Jobs'];
const RESELLER_LEVEL: readonly Permission[] = ['Manage Subtree', 'Manage Customers'];

export interface RoleToGrant {
  id: number;
  name: string;
}

interface TargetUser {
  userId: number;
  path: string;
  parentId: number | null;
  isReseller: boolean;
}

async function targetOf(db: Executor, caller: Caller, userId: number): Promise<TargetUser> {
  const row = await db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.id', 'users.name', 'customers.path', 'customers.parent_id', 'customers.is_reseller'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row || !pathInScope(caller, row.path)) throw userNotFound(String(userId));
  return { userId: row.id, path: row.path, parentId: row.parent_id, isReseller: row.is_reseller };
}

async function permissionsOfRoles(db: Executor, roleIds: number[]): Promise<Map<number, Permission[]>> {
  const out = new Map<number, Permission[]>(roleIds.map((id) => [id, []]));
  if (roleIds.length === 0) return out;
  const rows = await db.selectFrom('role_permissions').select(['role_id', 'permission']).where('role_id', 'in', roleIds).execute();
  for (const r of rows) out.get(r.role_id)!.push(r.permission as Permission);
  return out;
}

async function permissionsOfUser(db: Executor, userId: number): Promise<Permission[]> {
  const rows = await db
    .selectFrom('user_roles')
    .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .select('role_permissions.permission')
    .distinct()
    .where('user_roles.user_id', '=', userId)
    .execute();
  return rows.map((r) => r.permission as Permission);
}

function lacking(caller: Caller, permissions: readonly Permission[]): Permission | undefined {
  return permissions.find((p) => !caller.permissions.has(p));
}

/** Refuses when the user holds a permission the caller does not: it may not change or delete that user. */
export async function assertMayManageUser(db: Executor, caller: Caller, userId: number): Promise<TargetUser> {
  const target = await targetOf(db, caller, userId);
  const missing = lacking(caller, await permissionsOfUser(db, target.userId));
  if (missing) {
    throw new DomainError(
      'NotAuthorized',
      `The user may not change a user who holds the "${missing}" permission, which it does not hold itself.`,
    );
  }
  return target;
}

/** Refuses a role assignment the caller may not make (the rules above); the user's current roles count too. */
export async function assertMayAssignRoles(db: Executor, caller: Caller, userId: number, roles: RoleToGrant[]): Promise<void> {
  const target = await assertMayManageUser(db, caller, userId);
  const perms = await permissionsOfRoles(
    db,
    roles.map((r) => r.id),
  );
  for (const role of roles) {
    const granted = perms.get(role.id) ?? [];
    const missing = lacking(caller, granted);
    if (missing) {
      throw new DomainError(
        'NotAuthorized',
        `The user may not grant the role '${role.name}': it does not hold the "${missing}" permission itself.`,
        { field: 'roles' },
      );
    }
    if (target.parentId !== null && granted.some((p) => PROVIDER_LEVEL.includes(p))) {
      throw new DomainError('NotAuthorized', `The role '${role.name}' can only be held by users of the service provider.`, {
        field: 'roles',
      });
    }
    if (target.parentId !== null && !target.isReseller && granted.some((p) => RESELLER_LEVEL.includes(p))) {
      throw new DomainError('NotAuthorized', `The role '${role.name}' can only be held by users of a reseller.`, { field: 'roles' });
    }
  }
}
