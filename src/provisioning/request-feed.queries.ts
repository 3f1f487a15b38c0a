import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { customerInScope, type Caller } from '../tenancy/caller.js';

/** The caller's status changes after an event id, oldest first, with the owning customer's path. */
export function selectChangesAfter(db: Executor, afterEventId: number, limit: number, caller: Caller) {
  return db
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
    .where('e.id', '>', afterEventId)
    .where(customerInScope(caller))
    .orderBy('e.id')
    .limit(limit);
}

/** The snapshot a read of committed changes starts from (`pg_snapshot` as text). */
export async function selectCurrentSnapshot(db: Executor): Promise<string> {
  const { rows } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db);
  return rows[0]!.snapshot;
}

/**
 * Status changes that committed after `since` (a snapshot from the previous read) and before this
 * read's own snapshot, which comes back with them, ordered by event id. A transaction running at
 * `since` was either in its list of running ids or at or above its xmax, so those two conditions
 * find every change it did not see, and only those: nothing committed out of id order is skipped.
 * One statement, so the rows and the returned snapshot are the same snapshot.
 */
export async function selectChangesCommittedSince(db: Executor, since: string): Promise<{ snapshot: string; rows: CommittedChangeRow[] }> {
  // The left join answers the snapshot even when nothing changed: one row of nulls.
  const { rows } = await sql<{ snapshot: string } & { [K in keyof CommittedChangeRow]: CommittedChangeRow[K] | null }>`
    select s.snapshot::text as snapshot, e.id, e.request_id, e.root_id, e.parent_id, e.customer_id,
           e.entity, e.entity_id, e.action, e.status, e.at, c.path, e.xid::text as xid
      from (select pg_current_snapshot() as snapshot) s
      left join (request_status_events e join customers c on c.id = e.customer_id)
        on e.xid >= pg_snapshot_xmax(${since}::pg_snapshot)
        or e.xid = any(array(select pg_snapshot_xip(${since}::pg_snapshot)))
     order by e.id`.execute(db);
  return { snapshot: rows[0]!.snapshot, rows: rows.filter((r): r is typeof r & CommittedChangeRow => r.id !== null) };
}

export type ChangeRow = Awaited<ReturnType<ReturnType<typeof selectChangesAfter>['execute']>>[number];
/** A change with the id of the transaction that made it (xid8 as text). */
export type CommittedChangeRow = ChangeRow & { xid: string };
