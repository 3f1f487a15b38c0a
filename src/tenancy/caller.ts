import { expressionBuilder, sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { Permission } from './permissions.js';
import { DomainError, customerNotFound } from '../core/errors.js';

/** Who is acting, and what part of the customer tree they may see. */
export interface Caller {
  userId: number | null;
  userName: string;
  customerId: number;
  /** Materialised path of the caller's customer, e.g. "/1/7/". */
  customerPath: string;
  /** True when the caller reaches its customer's descendants too (reseller/provider admins). */
  subtree: boolean;
  permissions: ReadonlySet<Permission>;
}

/** The platform acting on its own behalf (bootstrap, CLI on the server, scheduled work). */
export function systemCaller(provider: { id: number; path: string }, userName = 'system'): Caller {
  return {
    userId: null,
    userName,
    customerId: provider.id,
    customerPath: provider.path,
    subtree: true,
    permissions: new Set<Permission>([
      'API Access',
      'Service Provider Developer',
      'Console Access',
      'Manage Subtree',
      'Manage Customers',
      'Manage Users',
      'Manage Services',
      'Manage Catalog',
      'Manage Billing',
      'Manage Jobs',
      'View Reports',
    ]),
  };
}

export function hasPermission(caller: Caller, permission: Permission): boolean {
  return caller.permissions.has(permission);
}

export function requirePermission(caller: Caller, permission: Permission): void {
  if (!caller.permissions.has(permission)) {
    throw new DomainError('NotAuthorized', `The user does not have the "${permission}" permission.`);
  }
}

/** True when a customer (by its path) is inside the caller's reach. */
export function pathInScope(caller: Caller, customerPath: string): boolean {
  return caller.subtree ? customerPath.startsWith(caller.customerPath) : customerPath === caller.customerPath;
}

/**
 * Defence in depth for domain functions handed an already-loaded customer: one outside the
 * caller's reach is reported exactly like a missing one.
 */
export function assertCustomerInScope(caller: Caller, customer: { path: string; name: string }): void {
  if (!pathInScope(caller, customer.path)) throw customerNotFound(customer.name);
}

/**
 * The one predicate that scopes every customer-data query: a customer row (aliased `alias`)
 * is visible when its path lies under the caller's. Sibling data is simply absent.
 */
export function customerInScope(caller: Caller, alias = 'customers') {
  // Any table and alias: callers scope Kysely queries and raw statements alike.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (eb: ExpressionBuilder<any, any>): Expression<SqlBool> =>
    caller.subtree
      ? eb(sql.ref(`${alias}.path`), 'like', escapeLike(caller.customerPath) + '%')
      : eb(sql.ref(`${alias}.id`), '=', caller.customerId);
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** customerInScope for a raw statement whose customer row is aliased `alias` (default `c`). */
export function customerInScopeSql(caller: Caller, alias = 'c'): Expression<SqlBool> {
  return customerInScope(caller, alias)(expressionBuilder());
}
