import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Executor } from '../core/db/database.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { ProvisioningRequestsTable, RequestAction, RequestEntity } from './schema.js';

export type EngineRequest = Selectable<ProvisioningRequestsTable>;

/** Statuses of a request that still has to run; only these hold back later trees. */
export const RUNNING: ProvisioningStatus[] = ['Requested', 'InProgress'];

export function isRemoval(action: EngineRequest['action']): boolean {
  return action === 'deprovision' || action === 'delete';
}

export interface ChildState {
  id: number;
  sequence: number;
  status: ProvisioningStatus;
  error: string | null;
  entity: RequestEntity;
  entityId: number;
  action: RequestAction;
}

/** A request a worker has claimed, and the holder of a lease that ran out before this claim (a killed or hung worker). */
export interface ClaimedRequest extends EngineRequest {
  lapsed_owner: string | null;
}

/** What a claimed request's step depends on. */
export interface StepState {
  /**
   * A running request of an earlier tree on this entity or one it depends on (or, for a removal,
   * on one that depends on it). Trees run in root order, which also rules out waits in a cycle.
   */
  blocker: number | null;
  children: ChildState[];
}

/**
 * Claims up to `limit` woken requests in one statement: rows another worker is claiming are
 * skipped, not waited for, and a row under a live lease is left to its holder. Each claimed row
 * gets a lease (`owner` is this claim's token) and loses its wake; whoever wakes it again while
 * the step runs makes it claimable once the lease is dropped.
 */
export async function claimRequests(db: Executor, owner: string, leaseSeconds: number, limit: number): Promise<ClaimedRequest[]> {
  const { rows } = await sql<ClaimedRequest>`
    with picked as (
      select id, case when lease_until is not null then lease_owner end as lapsed_owner
      from provisioning_requests
      where wake_at <= now() and status in ('Requested', 'InProgress') and (lease_until is null or lease_until <= now())
      order by wake_at, id
      limit ${limit}
      for update skip locked
    )
    update provisioning_requests r
    set wake_at = null, lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseSeconds})
    from picked
    where r.id = picked.id
    returning r.*, picked.lapsed_owner
  `.execute(db);
  return rows;
}

/**
 * Blockers and children of claimed requests, read after the claim committed (one statement for
 * the whole claim). Not in the claim's own statement: its snapshot predates the row locks it takes,
 * so it could miss the end of a blocker or child whose wake the claim has just consumed.
 */
export async function stepStates(db: Executor, ids: number[]): Promise<Map<number, StepState>> {
  if (ids.length === 0) return new Map();
  const { rows } = await sql<StepState & { id: number }>`
    select r.id,
      -- Two lookups, each by its own index (the entity key's, then only for a removal the
      -- dependency keys'): as one OR the planner walked every running request of an earlier
      -- tree, dead index entries included, for each claimed request.
      least(
        (select q.id from provisioning_requests q
          where q.status in ('Requested', 'InProgress') and q.entity_key = any(r.dep_keys) and q.root_id < r.root_id
          order by q.id limit 1),
        (select q.id from provisioning_requests q
          where r.action in ('deprovision', 'delete')
            and q.status in ('Requested', 'InProgress') and q.dep_keys @> array[r.entity_key] and q.root_id < r.root_id
          order by q.id limit 1)) as blocker,
      (select coalesce(json_agg(json_build_object('id', c.id, 'sequence', c.sequence, 'status', c.status, 'error', c.error,
          'entity', c.entity, 'entityId', c.entity_id, 'action', c.action) order by c.sequence, c.id), '[]'::json)
        from provisioning_requests c where c.parent_id = r.id) as children
    from provisioning_requests r
    where r.id = any(${ids}::int[])
  `.execute(db);
  return new Map(rows.map((row) => [row.id, { blocker: row.blocker, children: row.children }]));
}

const ENTITY_TABLE = {
  customer: 'customers',
  user: 'users',
  customer_service: 'customer_services',
  user_service: 'user_services',
  service_instance: 'service_instances',
} as const satisfies Record<RequestEntity, string>;

/** What one step writes, all in one statement, and only while the step's claim still holds. */
export interface StepWrite {
  /** Columns of the request row (the lease is dropped unless `keepLease`). */
  status?: ProvisioningStatus;
  error?: string | null;
  attempts?: number;
  started?: boolean;
  /** Ends the request: finished_at now, no wake; a success also clears the one-time secret and marks its own work done. */
  ended?: boolean;
  ownDone?: boolean;
  keepLease?: boolean;
  /** Wake the request again after this many seconds (a retry's backoff). */
  wakeInSeconds?: number;
  /** The request's entity's status (never for a batch, which has no entity of its own); `unlessRunning`: not over a later request's running status. */
  entityStatus?: { status: ProvisioningStatus; unlessRunning?: boolean };
  /** Children to release (Pending → Requested, woken, their entities Requested). */
  release?: ChildState[];
  /** Wake the parent and the later trees' requests that may have waited for this one. */
  wakeDependants?: boolean;
  lines: LogLine[];
  times: StepTime[];
}

/** Requests of later trees woken by one end; the rest are found by their own later ends. */
const WAKE_LIMIT = 1000;

function entityUpdate(entity: RequestEntity, action: RequestAction, status: ProvisioningStatus, id: number) {
  // An entity that is NotProvisioned keeps that status through 'update' requests.
  return sql`update ${sql.table(ENTITY_TABLE[entity])} set status = ${status} where id = ${id}${
    action === 'update' ? sql` and status <> 'NotProvisioned'` : sql``
  }`;
}

/**
 * Writes a step's outcome in one statement (one round trip, atomic without a transaction block):
 * the request row guarded by the claim token `owner`, and — only when that row was written — its
 * log lines and step times, its entity's status, released children and the wakes of those waiting
 * for it. Returns false when the claim had passed to another worker (nothing is written).
 */
export async function writeStep(db: Executor, r: EngineRequest, owner: string, w: StepWrite): Promise<boolean> {
  const sets = new Map<string, RawBuilder<unknown>>();
  if (!w.keepLease) sets.set('lease_owner', sql`null`).set('lease_until', sql`null`);
  if (w.status) sets.set('status', sql`${w.status}`);
  if (w.error !== undefined) sets.set('error', sql`${w.error}`);
  if (w.attempts !== undefined) sets.set('attempts', sql`${w.attempts}`);
  if (w.started) sets.set('started_at', sql`coalesce(started_at, now())`);
  if (w.ended) sets.set('finished_at', sql`now()`).set('wake_at', sql`null`);
  // A failed request keeps its one-time secret so that a retry can still deliver it.
  if (w.ownDone || (w.ended && w.status !== 'Failed')) sets.set('own_done', sql`true`).set('secret', sql`null`);
  if (w.wakeInSeconds !== undefined) {
    sets.set('wake_at', sql`least(coalesce(wake_at, 'infinity'), now() + make_interval(secs => ${w.wakeInSeconds}))`);
  }
  const assignments = sql.join([...sets].map(([column, value]) => sql`${sql.ref(column)} = ${value}`));
  const ctes = [sql`g as (update provisioning_requests set ${assignments} where id = ${r.id} and lease_owner = ${owner} returning id)`];
  if (w.lines.length) {
    ctes.push(sql`log as (insert into request_log (request_id, at, level, message)
      select g.id, x.at, x.level, x.message from g,
        unnest(${w.lines.map((l) => l.at.toISOString())}::timestamptz[], ${w.lines.map((l) => l.level)}::text[], ${w.lines.map((l) => l.message)}::text[])
        as x(at, level, message))`);
  }
  if (w.times.length) {
    ctes.push(sql`times as (insert into request_times (request_id, step, started_at, duration_ms)
      select g.id, x.step, x.started_at, x.ms from g,
        unnest(${w.times.map((t) => t.step)}::text[], ${w.times.map((t) => t.startedAt.toISOString())}::timestamptz[], ${w.times.map((t) => Math.round(t.durationMs))}::int[])
        as x(step, started_at, ms))`);
  }
  if (w.entityStatus) {
    const unless = w.entityStatus.unlessRunning
      ? sql` and not exists (select 1 from provisioning_requests q where q.entity_key = ${r.entity_key}
          and q.status in ('Requested', 'InProgress') and q.id <> ${r.id}
          -- A batch borrows its first child's entity key but sets no status: it must not hide the child's.
          and coalesce(q.desired->>'batch', 'false') <> 'true')`
      : sql``;
    ctes.push(
      sql`entity as (${entityUpdate(r.entity, r.action, w.entityStatus.status, r.entity_id)}${unless} and exists (select 1 from g))`,
    );
  }
  for (const [i, child] of (w.release ?? []).entries()) {
    ctes.push(sql`${sql.id(`released${i}`)} as (update provisioning_requests set status = 'Requested', wake_at = now()
      where id = ${child.id} and status = 'Pending' and exists (select 1 from g) returning id)`);
    ctes.push(
      sql`${sql.id(`released_entity${i}`)} as (${entityUpdate(child.entity, child.action, 'Requested', child.entityId)} and exists (select 1 from ${sql.id(`released${i}`)}))`,
    );
  }
  if (w.wakeDependants) {
    if (r.parent_id !== null) {
      ctes.push(sql`parent as (update provisioning_requests set wake_at = now() where id = ${r.parent_id} and exists (select 1 from g))`);
    }
    ctes.push(sql`waiters as (update provisioning_requests set wake_at = now() where id in (
      select q.id from provisioning_requests q
      where q.status = 'Requested' and q.root_id > ${r.root_id}
        and (q.dep_keys @> array[${r.entity_key}]::text[]
          or (q.action in ('deprovision', 'delete') and q.entity_key = any(${r.dep_keys}::text[])))
      order by q.id limit ${WAKE_LIMIT}) and exists (select 1 from g))`);
  }
  const { rows } = await sql<{ written: number }>`with ${sql.join(ctes)} select count(*)::int as written from g`.execute(db);
  return rows[0]!.written > 0;
}

/** Extends the claim while the driver runs; false when another worker has taken the request over. */
export async function renewLease(db: Executor, id: number, owner: string, leaseSeconds: number): Promise<boolean> {
  const result = await db
    .updateTable('provisioning_requests')
    .set({ lease_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends the leases of this worker's claims (tokens `${worker}/n`) and wakes their requests, for the next worker at once. */
export async function expireLeasesOf(db: Executor, worker: string): Promise<void> {
  await db
    .updateTable('provisioning_requests')
    .set({ lease_until: sql<Date>`now() - interval '1 second'`, wake_at: sql<Date>`now()` })
    .where('lease_owner', 'like', `${worker.replace(/[\\%_]/g, '\\$&')}/%`)
    .where('status', 'in', RUNNING)
    .execute();
}

/**
 * Wakes requests whose claim ran out (a worker killed, or hung past its lease, in any step: its
 * own driver work or a parent's), so the next claim takes them over. Returns their ids.
 */
export async function wakeLapsedLeases(db: Executor): Promise<number[]> {
  const rows = await db
    .updateTable('provisioning_requests')
    .set({ wake_at: sql<Date>`now()` })
    .where('status', 'in', RUNNING)
    .where('lease_until', '<=', sql<Date>`now()`)
    .where('wake_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface LogLine {
  at: Date;
  level: 'error' | 'warning' | 'info' | 'verbose';
  message: string;
}

export interface StepTime {
  step: string;
  startedAt: Date;
  durationMs: number;
}

export async function appendLog(tx: Executor, requestId: number, lines: LogLine[]): Promise<void> {
  if (lines.length === 0) return;
  await tx
    .insertInto('request_log')
    .values(lines.map((l) => ({ request_id: requestId, at: l.at, level: l.level, message: l.message })))
    .execute();
}

export async function appendTimes(tx: Executor, requestId: number, times: StepTime[]): Promise<void> {
  if (times.length === 0) return;
  await tx
    .insertInto('request_times')
    .values(times.map((t) => ({ request_id: requestId, step: t.step, started_at: t.startedAt, duration_ms: Math.round(t.durationMs) })))
    .execute();
}
