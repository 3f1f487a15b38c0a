import type { Executor } from '../core/db/database.js';
import { customerInScope, type Caller } from '../tenancy/caller.js';

/** Status changes after an event id, oldest first, with the owning customer's path; only the caller's when given. */
export function selectChangesAfter(db: Executor, afterEventId: number, limit: number, caller?: Caller) {
  let q = db
    .selectFrom('request_status_events as e')
    .innerJoin('customers', 'customers.id', 'e.customer_id')
    .select([
      'e.id',
      'e.request_id',
      'e.root_id',
      'e.parent_id',
      'e.customer_id',
      'e.entity',
      'e.entity_id',
      'e.action',
      'e.status',
      'e.at',
      'customers.path',
    ])
    .where('e.id', '>', afterEventId);
  if (caller) q = q.where(customerInScope(caller));
  return q.orderBy('e.id').limit(limit);
}

export async function selectLastEventId(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('request_status_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}
