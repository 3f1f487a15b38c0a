import type { Tx } from '../core/db/database.js';
import { createQueueMigration, sendInTransaction, type QueueDefinition } from '../core/queue.js';

/**
 * One job = "look at request N and move it forward". The requests table is the source of truth;
 * a job carries only the id, so a duplicate or stale job is harmless (the engine re-reads the row).
 * `short` keeps at most one waiting job per request.
 */
export const PROVISIONING_QUEUE: QueueDefinition = {
  name: 'provisioning',
  policy: 'short',
  // Engine-level retries (with backoff and log lines) handle driver faults; these cover a handler
  // that threw on a database error.
  retryLimit: 5,
  retryDelaySeconds: 1,
  retryBackoff: true,
  // Crash recovery uses the request lease, not pg-boss expiry; this only bounds a hung handler.
  expireInSeconds: 3600,
};

export const provisioningQueueMigration = createQueueMigration(PROVISIONING_QUEUE);

export interface RequestJob {
  requestId: number;
}

/** Queues a look at the request when `tx` commits (outbox). */
export async function enqueueRequest(tx: Tx, requestId: number, delaySeconds = 0): Promise<void> {
  await sendInTransaction(tx, PROVISIONING_QUEUE.name, { requestId } satisfies RequestJob, {
    singletonKey: `request:${requestId}`,
    startAfterSeconds: delaySeconds,
  });
}
