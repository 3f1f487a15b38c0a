/**
 * Provisioning requests as the console lists them: filtered, paged, with the name of what each one
 * changes, scoped by the caller's subtree.
 */
import type { Executor } from '../core/db/database.js';
import { readPage, type PageQuery, type Paged } from '../core/db/paging.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { customerInScope, type Caller } from '../tenancy/caller.js';
import type { RequestAction, RequestEntity } from './schema.js';
import type { RequestRow } from './request.queries.js';

export interface RequestQuery extends PageQuery {
  status?: ProvisioningStatus;
  entity?: RequestEntity;
  customerId?: number;
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  /** Only top-level requests (default true). */
  topLevel?: boolean;
}

export interface RequestListItem {
  id: number;
  parentId: number | null;
  rootId: number;
  entity: RequestEntity;
  entityId: number;
  entityName: string | null;
  customer: { id: number; name: string };
  action: RequestAction;
  status: ProvisioningStatus;
  attempts: number;
  requestedBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

function scoped(db: Executor, caller: Caller) {
  return db.selectFrom('provisioning_requests as r').innerJoin('customers', 'customers.id', 'r.customer_id').where(customerInScope(caller));
}

/** Newest first. */
export async function findRequests(db: Executor, caller: Caller, q: RequestQuery = {}): Promise<Paged<RequestListItem>> {
  let base = scoped(db, caller);
  if (q.topLevel !== false) base = base.where('r.parent_id', 'is', null);
  if (q.status) base = base.where('r.status', '=', q.status);
  if (q.entity) base = base.where('r.entity', '=', q.entity);
  if (q.customerId !== undefined) base = base.where('r.customer_id', '=', q.customerId);
  if (q.from) base = base.where('r.created_at', '>=', q.from);
  if (q.to) base = base.where('r.created_at', '<', q.to);
  const found = await readPage(
    q,
    25,
    ({ limit, offset }) =>
      base.selectAll('r').select('customers.name as customer_name').orderBy('r.id', 'desc').limit(limit).offset(offset).execute(),
    () => base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
  return { ...found, items: await withNames(db, found.items) };
}

/** The children of a request (already known to be in scope), in run order. */
export async function childRequests(db: Executor, caller: Caller, parentId: number): Promise<RequestListItem[]> {
  const rows = await scoped(db, caller)
    .selectAll('r')
    .select('customers.name as customer_name')
    .where('r.parent_id', '=', parentId)
    .orderBy('r.sequence')
    .orderBy('r.id')
    .execute();
  return withNames(db, rows);
}

/** One request as a list item (the detail page's header). */
export async function requestItem(db: Executor, caller: Caller, id: number): Promise<RequestListItem | undefined> {
  const rows = await scoped(db, caller).selectAll('r').select('customers.name as customer_name').where('r.id', '=', id).execute();
  return (await withNames(db, rows))[0];
}

type Row = RequestRow & { customer_name: string };

/** Names the entity of each request with a fixed number of queries per page. */
async function withNames(db: Executor, rows: Row[]): Promise<RequestListItem[]> {
  const ids = (entity: RequestEntity) => [...new Set(rows.filter((r) => r.entity === entity).map((r) => r.entity_id))];
  const [customers, users, customerServices, userServices, instances] = await Promise.all([
    ids('customer').length ? db.selectFrom('customers').select(['id', 'name']).where('id', 'in', ids('customer')).execute() : [],
    ids('user').length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids('user')).execute() : [],
    ids('customer_service').length
      ? db
          .selectFrom('customer_services')
          .innerJoin('services', 'services.id', 'customer_services.service_id')
          .select(['customer_services.id', 'services.code as name'])
          .where('customer_services.id', 'in', ids('customer_service'))
          .execute()
      : [],
    ids('user_service').length
      ? db
          .selectFrom('user_services')
          .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
          .innerJoin('services', 'services.id', 'customer_services.service_id')
          .innerJoin('users', 'users.id', 'user_services.user_id')
          .select(['user_services.id', 'services.code', 'users.name as user_name'])
          .where('user_services.id', 'in', ids('user_service'))
          .execute()
      : [],
    ids('service_instance').length
      ? db.selectFrom('service_instances').select(['id', 'name']).where('id', 'in', ids('service_instance')).execute()
      : [],
  ]);
  const names: Record<RequestEntity, Map<number, string>> = {
    customer: new Map(customers.map((c) => [c.id, c.name])),
    user: new Map(users.map((u) => [u.id, u.name])),
    customer_service: new Map(customerServices.map((c) => [c.id, c.name])),
    user_service: new Map(userServices.map((u) => [u.id, `${u.code} for ${u.user_name}`])),
    service_instance: new Map(instances.map((i) => [i.id, i.name])),
  };
  return rows.map((r) => ({
    id: r.id,
    parentId: r.parent_id,
    rootId: r.root_id ?? r.id,
    entity: r.entity,
    entityId: r.entity_id,
    entityName: names[r.entity].get(r.entity_id) ?? null,
    customer: { id: r.customer_id, name: r.customer_name },
    action: r.action,
    status: r.status,
    attempts: r.attempts,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  }));
}
