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
  if (status === 'Requested' && spec.parentId === undefined && enqueueHook) await enqueueHook(tx, row.id);
  return row.id;
}
