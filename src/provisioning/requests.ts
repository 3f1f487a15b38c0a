import type { Tx } from '../core/db/database.js';
import type { Caller } from '../tenancy/caller.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { RequestAction, RequestEntity } from './schema.js';

export interface NewRequest {
  entity: RequestEntity;
  entityId: number;
  customerId: number;
  action: RequestAction;
  desired?: Record<string, unknown>;
  parentId?: number;
  /** Order among siblings (dependency order). */
  sequence?: number;
  /** Pending when something (a parent, an approval) holds it. */
  status?: Extract<ProvisioningStatus, 'Requested' | 'Pending'>;
}

type Enqueue = (tx: Tx, requestId: number) => Promise<void>;
let enqueueHook: Enqueue | undefined;

/** The engine registers how a runnable request is handed to the queue (same transaction: outbox). */
export function onRequestCreated(hook: Enqueue | undefined): void {
  enqueueHook = hook;
}

/**
 * Records a provisioning request in the caller's transaction, so a request exists
 * if and only if the change it carries was committed.
 */
export async function createRequest(tx: Tx, caller: Caller, spec: NewRequest): Promise<number> {
  const status = spec.status ?? 'Requested';
  const row = await tx
    .insertInto('provisioning_requests')
    .values({
      parent_id: spec.parentId ?? null,
      entity: spec.entity,
      entity_id: spec.entityId,
      customer_id: spec.customerId,
      action: spec.action,
      desired: JSON.stringify(spec.desired ?? {}),
      requested_by_user_id: caller.userId,
      requested_by: caller.userName,
      status,
      sequence: spec.sequence ?? 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const group = spec.parentId === undefined ? groups.get(tx) : undefined;
  if (group) group.push(row.id);
  else if (status === 'Requested' && spec.parentId === undefined && enqueueHook) await enqueueHook(tx, row.id);
  return row.id;
}

const groups = new WeakMap<Tx, number[]>();

/**
 * Runs `fn` and gathers the top-level requests it creates in `tx`. One API call that changes
 * several entities answers with one request id: a single request is returned as it is;
 * several become children (in creation order) of one parent — an 'update' of the first child's
 * entity with `desired.batch` — and only the parent is queued. Returns undefined when nothing changed.
 */
export async function groupRequests<T>(tx: Tx, caller: Caller, fn: () => Promise<T>): Promise<{ result: T; requestId: number | undefined }> {
  if (groups.has(tx)) throw new Error('groupRequests does not nest');
  const ids: number[] = [];
  groups.set(tx, ids);
  let result: T;
  try {
    result = await fn();
  } finally {
    groups.delete(tx);
  }
  if (ids.length === 0) return { result, requestId: undefined };
  if (ids.length === 1) {
    const only = await tx.selectFrom('provisioning_requests').select('status').where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    if (only.status === 'Requested' && enqueueHook) await enqueueHook(tx, ids[0]!);
    return { result, requestId: ids[0] };
  }
  const first = await tx.selectFrom('provisioning_requests').select(['entity', 'entity_id', 'customer_id']).where('id', '=', ids[0]!).executeTakeFirstOrThrow();
  const parentId = await createRequest(tx, caller, {
    entity: first.entity,
    entityId: first.entity_id,
    customerId: first.customer_id,
    action: 'update',
    desired: { batch: true, children: ids.length },
  });
  for (const [i, id] of ids.entries()) {
    await tx.updateTable('provisioning_requests').set({ parent_id: parentId, sequence: i }).where('id', '=', id).execute();
  }
  return { result, requestId: parentId };
}
