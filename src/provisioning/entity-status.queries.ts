import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { RequestAction, RequestEntity } from './schema.js';
import { RUNNING } from './engine.queries.js';

const TABLE = {
  customer: 'customers',
  user: 'users',
  customer_service: 'customer_services',
  user_service: 'user_services',
  service_instance: 'service_instances',
} as const satisfies Record<RequestEntity, string>;

export function entityKey(entity: RequestEntity, id: number): string {
  return `${entity}:${id}`;
}

/**
 * Keys of the entity and of everything it depends on: a request waits for running requests of an
 * earlier tree on any of them (a user service needs its user and its customer service, both need the customer).
 */
export async function dependencyKeys(db: Executor, entity: RequestEntity, entityId: number, customerId: number): Promise<string[]> {
  const own = entityKey(entity, entityId);
  const customer = entityKey('customer', customerId);
  switch (entity) {
    case 'customer':
      return [own];
    case 'user':
    case 'customer_service':
      return [customer, own];
    case 'user_service': {
      const us = await db
        .selectFrom('user_services')
        .select(['user_id', 'customer_service_id'])
        .where('id', '=', entityId)
        .executeTakeFirst();
      return us ? [customer, entityKey('user', us.user_id), entityKey('customer_service', us.customer_service_id), own] : [customer, own];
    }
    case 'service_instance': {
      const si = await db.selectFrom('service_instances').select('customer_service_id').where('id', '=', entityId).executeTakeFirst();
      return si ? [customer, entityKey('customer_service', si.customer_service_id), own] : [customer, own];
    }
  }
}

/**
 * Sets an entity's provisioning status on behalf of a request doing `opts.action`. An entity that
 * is NotProvisioned keeps that status through 'update' requests (changing a de-provisioned
 * customer's contact does not provision it).
 */
export async function setEntityStatus(
  db: Executor,
  entity: RequestEntity,
  entityId: number,
  status: ProvisioningStatus,
  opts: { action?: RequestAction; unlessRunning?: { key: string; exceptId: number } } = {},
): Promise<void> {
  let q = db
    .updateTable(TABLE[entity] as 'customers')
    .set({ status })
    .where('id', '=', entityId);
  if (opts.action === 'update') q = q.where('status', '<>', 'NotProvisioned');
  const running = opts.unlessRunning;
  if (running) {
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('provisioning_requests')
            .select('id')
            .where('entity_key', '=', running.key)
            .where('status', 'in', RUNNING)
            .where('id', '<>', running.exceptId)
            // A batch borrows its first child's entity key but sets no status: it must not hide the child's.
            .where(sql<boolean>`coalesce(desired->>'batch', 'false') <> 'true'`),
        ),
      ),
    );
  }
  await q.execute();
}

export async function entityStatus(db: Executor, entity: RequestEntity, entityId: number): Promise<ProvisioningStatus | undefined> {
  const row = await db
    .selectFrom(TABLE[entity] as 'customers')
    .select('status')
    .where('id', '=', entityId)
    .executeTakeFirst();
  return row?.status;
}
