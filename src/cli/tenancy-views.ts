import type { AppContext } from '../core/context.js';
import type { Caller } from '../tenancy/caller.js';
import { findCustomers, getCustomer, type Customer } from '../tenancy/customer.service.js';
import { findUsers, getUser, userRoles, type User } from '../tenancy/user.service.js';
import { locateUser } from './context.js';

/**
 * What the customer and user commands show: plain data built from domain calls, with the names
 * an operator knows (parent code, customer code) beside ids. The commands print it as a table,
 * key/value lines or JSON in one place each.
 */
export interface CustomerView {
  id: number;
  name: string;
  fullname: string;
  parent: string | null;
  reseller: boolean;
  billToParent: boolean;
  status: string;
  enabled: boolean;
  contactName: string;
  contactEmail: string;
  primaryDomain: string;
  billingId: string | null;
  users: number;
  customers: number;
  createdAt: Date;
  modifiedAt: Date;
}

export interface UserView {
  id: number;
  name: string;
  upn: string;
  customer: string;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  email: string | null;
  roles: string[];
  permissions: string[];
  enabled: boolean;
  status: string;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

async function codesById(ctx: AppContext, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .selectFrom('customers')
    .select(['id', 'name'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function customerViews(ctx: AppContext, caller: Caller, customers: Customer[]): Promise<CustomerView[]> {
  const parents = await codesById(
    ctx,
    customers.flatMap((c) => (c.parentId === null ? [] : [c.parentId])),
  );
  const ids = customers.map((c) => c.id);
  const users = ids.length
    ? await ctx.db
        .selectFrom('users')
        .select(['customer_id', (eb) => eb.fn.countAll<string>().as('n')])
        .where('customer_id', 'in', ids)
        .where('deleted_at', 'is', null)
        .groupBy('customer_id')
        .execute()
    : [];
  const children = ids.length
    ? await ctx.db
        .selectFrom('customers')
        .select(['parent_id', (eb) => eb.fn.countAll<string>().as('n')])
        .where('parent_id', 'in', ids)
        .where('deleted_at', 'is', null)
        .groupBy('parent_id')
        .execute()
    : [];
  return customers.map((c) => ({
    id: c.id,
    name: c.name,
    fullname: c.fullname,
    parent: c.parentId === null ? null : (parents.get(c.parentId) ?? String(c.parentId)),
    reseller: c.isReseller,
    billToParent: c.billToParent,
    status: c.status,
    enabled: c.enabled,
    contactName: c.contactName,
    contactEmail: c.contactEmail,
    primaryDomain: c.primaryDomain,
    billingId: c.billingId,
    users: Number(users.find((u) => u.customer_id === c.id)?.n ?? 0),
    customers: Number(children.find((k) => k.parent_id === c.id)?.n ?? 0),
    createdAt: c.createdAt,
    modifiedAt: c.modifiedAt,
  }));
}

export async function showCustomer(ctx: AppContext, caller: Caller, ref: { id: number } | { name: string }): Promise<CustomerView> {
  return (await customerViews(ctx, caller, [await getCustomer(ctx.db, caller, ref)]))[0]!;
}

async function permissionsOf(ctx: AppContext, userId: number): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('user_roles')
    .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .select('role_permissions.permission')
    .distinct()
    .where('user_roles.user_id', '=', userId)
    .orderBy('role_permissions.permission')
    .execute();
  return rows.map((r) => r.permission);
}

async function userView(ctx: AppContext, user: User, customerCode: string): Promise<UserView> {
  const extra = await ctx.db
    .selectFrom('users')
    .select(['locked_until', 'last_login_at'])
    .where('id', '=', user.id)
    .executeTakeFirstOrThrow();
  return {
    id: user.id,
    name: user.name,
    upn: user.upn,
    customer: customerCode,
    firstName: user.firstName,
    lastName: user.lastName,
    displayName: user.displayName,
    email: user.externalEmail,
    roles: await userRoles(ctx.db, user.id),
    permissions: await permissionsOf(ctx, user.id),
    enabled: user.enabled,
    status: user.status,
    lockedUntil: extra.locked_until,
    lastLoginAt: extra.last_login_at,
    createdAt: user.createdAt,
  };
}

/** Users of one customer, or of every customer in the caller's reach. */
export async function listUsers(ctx: AppContext, caller: Caller, customerRef?: { id: number } | { name: string }): Promise<UserView[]> {
  const customers = customerRef ? [await getCustomer(ctx.db, caller, customerRef)] : await findCustomers(ctx.db, caller);
  const out: UserView[] = [];
  for (const c of customers) for (const u of await findUsers(ctx.db, caller, c)) out.push(await userView(ctx, u, c.name));
  return out;
}

export async function showUser(ctx: AppContext, caller: Caller, name: string): Promise<UserView> {
  const { customer, ref } = await locateUser(ctx, caller, name);
  return userView(ctx, await getUser(ctx.db, caller, customer, ref), customer.name);
}
