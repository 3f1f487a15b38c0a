import { sql, type Selectable } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { ProvisioningRequestsTable } from './schema.js';

export type EngineRequest = Selectable<ProvisioningRequestsTable>;

/** Statuses of a request that still has to run; only these hold back later trees. */
export const RUNNING: ProvisioningStatus[] = ['Requested', 'InProgress'];

/** Locks the request row for the rest of the transaction: one worker decides for a request at a time. */
export function lockRequest(tx: Tx, id: number): Promise<EngineRequest | undefined> {
  return tx.selectFrom('provisioning_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function isRemoval(action: EngineRequest['action']): boolean {
  return action === 'deprovision' || action === 'delete';
}

/**
 * A running request of an earlier tree on this entity or one it depends on (or, for a removal,
 * on one that depends on it). Trees run in root order, which also rules out waits in a cycle.
 */
export async function findBlocker(tx: Tx, r: EngineRequest): Promise<number | undefined> {
  const row = await tx
    .selectFrom('provisioning_requests as q')
    .select('q.id')
    .where('q.status', 'in', RUNNING)
    .where('q.root_id', '<', r.root_id!)
    .where((eb) =>
      eb.or([
        eb('q.entity_key', '=', eb.fn.any(eb.val(r.dep_keys))),
        ...(isRemoval(r.action) ? [eb('q.dep_keys', '@>', sql<string[]>`array[${r.entity_key}]::text[]`)] : []),
      ]),
    )
    .orderBy('q.id')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** Running requests of later trees that may have waited for `r`. */
export async function findWaiters(tx: Tx, r: EngineRequest, limit: number): Promise<number[]> {
  const rows = await tx
    .selectFrom('provisioning_requests as q')
    .select('q.id')
    .where('q.status', '=', 'Requested')
    .where('q.root_id', '>', r.root_id!)
    .where((eb) =>
      eb.or([
        eb('q.dep_keys', '@>', sql<string[]>`array[${r.entity_key}]::text[]`),
        eb.and([eb('q.action', 'in', ['deprovision', 'delete']), eb('q.entity_key', '=', eb.fn.any(eb.val(r.dep_keys)))]),
      ]),
    )
    .orderBy('q.id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

export interface ChildState {
  id: number;
  sequence: number;
  status: ProvisioningStatus;
  error: string | null;
}

export function childStates(tx: Tx, parentId: number): Promise<ChildState[]> {
  return tx.selectFrom('provisioning_requests').select(['id', 'sequence', 'status', 'error']).where('parent_id', '=', parentId).orderBy('sequence').orderBy('id').execute();
}

export async function takeLease(tx: Tx, id: number, owner: string, leaseSeconds: number, attempt: number): Promise<void> {
  await tx
    .updateTable('provisioning_requests')
    .set({
      status: 'InProgress',
      attempts: attempt,
      lease_owner: owner,
      lease_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})`,
      started_at: sql<Date>`coalesce(started_at, now())`,
    })
    .where('id', '=', id)
    .execute();
}

/** Extends the lease while the driver runs; false when another worker has taken the request over. */
export async function renewLease(db: Executor, id: number, owner: string, leaseSeconds: number): Promise<boolean> {
  const result = await db
    .updateTable('provisioning_requests')
    .set({ lease_until: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'InProgress')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export function leaseExpired(r: EngineRequest, now: Date): boolean {
  return r.lease_until !== null && r.lease_until.getTime() <= now.getTime();
}

export async function markStarted(tx: Tx, id: number): Promise<void> {
  await tx.updateTable('provisioning_requests').set({ status: 'InProgress', started_at: sql<Date>`coalesce(started_at, now())` }).where('id', '=', id).execute();
}

export async function endRequest(tx: Tx, id: number, values: { status: ProvisioningStatus; error: string | null }): Promise<void> {
  await tx
    .updateTable('provisioning_requests')
    // A failed request keeps its one-time secret so that a retry can still deliver it.
    .set({ ...values, finished_at: sql<Date>`now()`, lease_owner: null, lease_until: null, ...(values.status === 'Failed' ? {} : { secret: null, own_done: true }) })
    .where('id', '=', id)
    .execute();
}

export async function setOwnDone(tx: Tx, id: number): Promise<void> {
  await tx.updateTable('provisioning_requests').set({ own_done: true, lease_owner: null, lease_until: null, secret: null }).where('id', '=', id).execute();
}

export async function dropLease(tx: Tx, id: number): Promise<void> {
  await tx.updateTable('provisioning_requests').set({ lease_owner: null, lease_until: null }).where('id', '=', id).execute();
}

export async function releaseChildren(tx: Tx, ids: number[]): Promise<{ id: number; entity: EngineRequest['entity']; entity_id: number; action: EngineRequest['action'] }[]> {
  if (ids.length === 0) return [];
  return tx.updateTable('provisioning_requests').set({ status: 'Requested' }).where('id', 'in', ids).where('status', '=', 'Pending').returning(['id', 'entity', 'entity_id', 'action']).execute();
}

/** Requests whose worker stopped renewing its lease (killed, or hung past the lease). */
export async function expiredLeases(db: Executor, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('provisioning_requests').select('id').where('status', '=', 'InProgress').where('lease_until', '<', sql<Date>`now()`).orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/**
 * Requests left Requested for longer than `seconds`: their wake-up was lost (a pg-boss job lost in
 * a server crash, or a blocker that ended between a waiter's check and its sleep). Re-queueing is
 * harmless: the engine re-reads the row, and a delayed retry job already queued absorbs the send.
 */
export async function staleRequested(db: Executor, seconds: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('provisioning_requests')
    .select('id')
    .where('status', '=', 'Requested')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${seconds})`)
    .orderBy('id')
    .limit(limit)
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
  await tx.insertInto('request_log').values(lines.map((l) => ({ request_id: requestId, at: l.at, level: l.level, message: l.message }))).execute();
}

export async function appendTimes(tx: Executor, requestId: number, times: StepTime[]): Promise<void> {
  if (times.length === 0) return;
  await tx
    .insertInto('request_times')
    .values(times.map((t) => ({ request_id: requestId, step: t.step, started_at: t.startedAt, duration_ms: Math.round(t.durationMs) })))
    .execute();
}
