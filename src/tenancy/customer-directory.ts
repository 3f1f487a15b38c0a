/**
 * Reading the customer tree the way an operator browses it (console Customers pages): the tree,
 * a searchable, sortable, paged table, a customer's full detail, and what deleting one would do.
 * Every read is scoped by the caller's subtree.
 */
import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { readPage, type PageQuery, type Paged } from '../core/db/paging.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { customerInScope, escapeLike, type Caller } from './caller.js';
import { getCustomer, type Customer } from './customer.service.js';
import type { CustomerRef } from './customer.queries.js';
import type { LocationPropertyDefinition } from './schema.js';

export interface CustomerTreeNode {
  id: number;
  name: string;
  fullname: string;
  status: ProvisioningStatus;
  enabled: boolean;
  isReseller: boolean;
  /** Customers directly below it that the caller may see: the tree offers to open it when there are any. */
  childrenCount: number;
}

export interface CustomerTreeLevel {
  /** The customer whose children these are (the caller's own when none was asked for). */
  parent: CustomerTreeNode;
  children: Paged<CustomerTreeNode>;
}

/**
 * One level of the hierarchy the caller may see: a customer and one page of the customers directly
 * below it, by name. The tree opens a level at a time, so a reseller with thousands of customers is
 * never read (or sent) whole.
 */
export async function customerTreeLevel(
  db: Executor,
  caller: Caller,
  q: PageQuery & { parentId?: number } = {},
): Promise<CustomerTreeLevel> {
  const parent = await getCustomer(db, caller, { id: q.parentId ?? caller.customerId });
  const nodes = db
    .selectFrom('customers as c')
    .where('c.deleted_at', 'is', null)
    .where(customerInScope(caller, 'c'))
    .select([
      'c.id',
      'c.name',
      'c.fullname',
      'c.status',
      'c.enabled',
      'c.is_reseller',
      (eb) =>
        eb
          .selectFrom('customers as k')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('k.parent_id', '=', 'c.id')
          .where('k.deleted_at', 'is', null)
          .where(customerInScope(caller, 'k'))
          .as('children_count'),
    ]);
  const [self, children] = await Promise.all([
    nodes.where('c.id', '=', parent.id).executeTakeFirstOrThrow(),
    readPage(
      q,
      50,
      ({ limit, offset }) =>
        nodes
          .where('c.parent_id', '=', parent.id)
          .orderBy(sql`lower(c.fullname)`)
          .orderBy('c.id')
          .limit(limit)
          .offset(offset)
          .execute(),
      () =>
        db
          .selectFrom('customers as c')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('c.parent_id', '=', parent.id)
          .where('c.deleted_at', 'is', null)
          .where(customerInScope(caller, 'c'))
          .executeTakeFirstOrThrow(),
    ),
  ]);
  return { parent: toTreeNode(self), children: { ...children, items: children.items.map(toTreeNode) } };
}

function toTreeNode(r: {
  id: number;
  name: string;
  fullname: string;
  status: ProvisioningStatus;
  enabled: boolean;
  is_reseller: boolean;
  children_count: number | null;
}): CustomerTreeNode {
  return {
    id: r.id,
    name: r.name,
    fullname: r.fullname,
    status: r.status,
    enabled: r.enabled,
    isReseller: r.is_reseller,
    childrenCount: Number(r.children_count ?? 0),
  };
}

export const CUSTOMER_SORTS = ['name', 'fullname', 'parent', 'status', 'usersCount', 'billingId', 'createdAt'] as const;
export type CustomerSort = (typeof CUSTOMER_SORTS)[number];

export interface CustomerListQuery extends PageQuery {
  search?: string;
  status?: ProvisioningStatus;
  parentId?: number;
  enabled?: boolean;
  /** Only resellers (true) or only end customers (false). */
  isReseller?: boolean;
  sort?: CustomerSort;
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
}

export interface CustomerListItem {
  id: number;
  name: string;
  fullname: string;
  parent: { id: number; name: string } | null;
  status: ProvisioningStatus;
  enabled: boolean;
  isReseller: boolean;
  usersCount: number;
  billingId: string | null;
}

const SORT_SQL: Record<CustomerSort, string> = {
  name: 'lower(c.name)',
  fullname: 'lower(c.fullname)',
  parent: 'lower(p.name)',
  status: 'c.status',
  usersCount: 'users_count',
  billingId: 'c.billing_id',
  createdAt: 'c.created_at',
};

/** One page of the customers the caller may see, with parent and users count. */
export async function listCustomers(db: Executor, caller: Caller, q: CustomerListQuery = {}): Promise<Paged<CustomerListItem>> {
  let base = db
    .selectFrom('customers as c')
    .leftJoin('customers as p', 'p.id', 'c.parent_id')
    .where('c.deleted_at', 'is', null)
    .where(customerInScope(caller, 'c'));
  if (q.search) {
    const like = `%${escapeLike(q.search.trim().toLowerCase())}%`;
    base = base.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['c.name']), 'like', like),
        eb(eb.fn('lower', ['c.fullname']), 'like', like),
        eb(eb.fn('lower', ['c.billing_id']), 'like', like),
      ]),
    );
  }
  if (q.status) base = base.where('c.status', '=', q.status);
  if (q.parentId !== undefined) base = base.where('c.parent_id', '=', q.parentId);
  if (q.enabled !== undefined) base = base.where('c.enabled', '=', q.enabled);
  if (q.isReseller !== undefined) base = base.where('c.is_reseller', '=', q.isReseller);
  const direction = q.order === 'desc' ? 'desc' : 'asc';
  const found = await readPage(
    q,
    25,
    ({ limit, offset }) =>
      base
        .select([
          'c.id',
          'c.name',
          'c.fullname',
          'c.status',
          'c.enabled',
          'c.is_reseller',
          'c.billing_id',
          'p.id as parent_id',
          'p.name as parent_name',
          (eb) =>
            eb
              .selectFrom('users as u')
              .select(eb.fn.countAll<number>().as('n'))
              .whereRef('u.customer_id', '=', 'c.id')
              .where('u.deleted_at', 'is', null)
              .as('users_count'),
        ])
        .orderBy(sql.raw(`${SORT_SQL[q.sort ?? 'name']} ${direction} nulls last`))
        .orderBy('c.id')
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
      fullname: r.fullname,
      status: r.status,
      enabled: r.enabled,
      isReseller: r.is_reseller,
      parent: r.parent_id !== null && r.parent_name !== null ? { id: r.parent_id, name: r.parent_name } : null,
      usersCount: Number(r.users_count ?? 0),
      billingId: r.billing_id,
    })),
  };
}

export interface CustomerDetail extends Customer {
  parent: { id: number; name: string } | null;
  location: { id: number; name: string } | null;
  /** The customer properties its location defines (the "additional properties" of the edit page). */
  propertyDefinitions: LocationPropertyDefinition[];
  usersCount: number;
  childrenCount: number;
}

/** A customer with what its detail page shows around it. */
export async function customerDetail(db: Executor, caller: Caller, ref: CustomerRef): Promise<CustomerDetail> {
  const customer = await getCustomer(db, caller, ref);
  const [parent, location, users, children] = await Promise.all([
    customer.parentId === null
      ? undefined
      : db.selectFrom('customers').select(['id', 'name', 'path']).where('id', '=', customer.parentId).executeTakeFirst(),
    customer.locationId === null
      ? undefined
      : db.selectFrom('locations').select(['id', 'name', 'customer_properties']).where('id', '=', customer.locationId).executeTakeFirst(),
    db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('customer_id', '=', customer.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('parent_id', '=', customer.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    ...customer,
    // The parent of the caller's own customer is outside its reach: its id is shown, never its data.
    parent: parent ? { id: parent.id, name: customer.id === caller.customerId ? '' : parent.name } : null,
    location: location ? { id: location.id, name: location.name } : null,
    propertyDefinitions: location?.customer_properties ?? [],
    usersCount: Number(users.n),
    childrenCount: Number(children.n),
  };
}

export interface CustomerDeletePreview {
  canDelete: boolean;
  blockers: string[];
  children: number;
  users: number;
  customerServices: number;
  userServices: number;
  effects: string[];
}

const ACTIVE = ['Requested', 'InProgress', 'Provisioned', 'Failed', 'Pending'] as const;

/** What deleting a customer would do, for the confirmation dialog; changes nothing. */
export async function customerDeletePreview(db: Executor, caller: Caller, ref: CustomerRef): Promise<CustomerDeletePreview> {
  const customer = await getCustomer(db, caller, ref);
  // The four counts in one statement: one round trip instead of four (sequential on the embedded database).
  const active = sql.join([...ACTIVE]);
  const { rows } = await sql<{ children: number; users: number; customer_services: number; user_services: number }>`
    select
      (select count(*) from customers where parent_id = ${customer.id} and deleted_at is null)::int as children,
      (select count(*) from users where customer_id = ${customer.id} and deleted_at is null)::int as users,
      (select count(*) from customer_services where customer_id = ${customer.id} and status in (${active}))::int as customer_services,
      (select count(*) from user_services us join customer_services cs on cs.id = us.customer_service_id
        where cs.customer_id = ${customer.id} and us.status in (${active}))::int as user_services`.execute(db);
  const { children, users, customer_services: customerServices, user_services: userServices } = rows[0]!;
  const blockers: string[] = [];
  if (customer.id === caller.customerId || customer.parentId === null)
    blockers.push('A customer cannot delete itself or the service provider.');
  if (children > 0)
    blockers.push(`Customer '${customer.name}' still has ${children} customer${children === 1 ? '' : 's'}; delete them first.`);
  if (!caller.permissions.has('Manage Customers')) blockers.push('You do not have the "Manage Customers" permission.');
  const effects = [
    `${users} user${users === 1 ? '' : 's'} of '${customer.name}' will be deleted and can no longer sign in.`,
    `${customerServices} customer service${customerServices === 1 ? '' : 's'} and ${userServices} user service${userServices === 1 ? '' : 's'} will be removed from the target systems.`,
    'Billing stops from today: the ledger records the deletion (customer_deleted), so the next billing run bills up to today only.',
  ];
  return { canDelete: blockers.length === 0, blockers, children, users, customerServices, userServices, effects };
}
