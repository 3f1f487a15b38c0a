import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { createQueueMigration, type QueueDefinition } from '../core/queue.js';

/**
 * The pg-boss queue the engine ran on until migration 0025 made the requests table its queue;
 * kept because released migration 0008 creates it.
 */
const PROVISIONING_QUEUE: QueueDefinition = {
  name: 'provisioning',
  policy: 'short',
  retryLimit: 5,
  retryDelaySeconds: 1,
  retryBackoff: true,
  expireInSeconds: 3600,
};

export const provisioningQueueMigration = createQueueMigration(PROVISIONING_QUEUE);

/**
 * Gives the request a step to take when `tx` commits: a worker claims it (its row is the job, so a
 * wake exists iff the change that caused it committed). Waking a request that has nothing to do
 * is harmless: the engine re-reads the row.
 */
export async function wakeRequest(tx: Executor, requestId: number): Promise<void> {
  await tx
    .updateTable('provisioning_requests')
    .set({ wake_at: sql<Date>`now()` })
    .where('id', '=', requestId)
    .execute();
}
