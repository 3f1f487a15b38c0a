import { sql } from 'kysely';
import type { Tx } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { setEntityStatus } from './entity-status.queries.js';
import { appendLog } from './engine.queries.js';
import { requestInScope } from './request-view.js';

/**
 * Retries a failed request tree: every failed request in it runs again (the request's own work
 * from scratch, a parent resumes where its children left off). Returns the ids woken again.
 */
export async function retryRequest(tx: Tx, caller: Caller, id: number): Promise<number[]> {
  requirePermission(caller, 'Manage Services');
  const request = await requestInScope(tx, caller, id);
  const failed = await tx
    .selectFrom('provisioning_requests')
    .select(['id', 'entity', 'entity_id', 'action'])
    .where('root_id', '=', request.root_id)
    .where('status', '=', 'Failed')
    .orderBy('id')
    .forUpdate()
    .execute();
  if (failed.length === 0) throw new DomainError('InvalidStatus', `Request '${id}' has not failed: there is nothing to retry.`, { id });
  for (const f of failed) {
    await tx
      .updateTable('provisioning_requests')
      .set({
        status: 'Requested',
        error: null,
        attempts: 0,
        finished_at: null,
        lease_owner: null,
        lease_until: null,
        wake_at: sql<Date>`now()`,
      })
      .where('id', '=', f.id)
      .execute();
    await setEntityStatus(tx, f.entity, f.entity_id, 'Requested', { action: f.action });
    await appendLog(tx, f.id, [{ at: new Date(), level: 'info', message: `Retry requested by ${caller.userName}` }]);
  }
  return failed.map((f) => f.id);
}
