import type { Executor, Tx } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { customerInScope, requirePermission, type Caller } from '../tenancy/caller.js';
import { setEntityStatus } from './entity-status.queries.js';
import { appendLog } from './engine.queries.js';
import { enqueueRequest } from './request-queue.js';
import { requestInScope } from './request-view.js';

/**
 * Retries a failed request tree: every failed request in it runs again (the request's own work
 * from scratch, a parent resumes where its children left off). Returns the ids queued again.
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
      .set({ status: 'Requested', error: null, attempts: 0, finished_at: null, lease_owner: null, lease_until: null })
      .where('id', '=', f.id)
      .execute();
    await setEntityStatus(tx, f.entity, f.entity_id, 'Requested', { action: f.action });
    await appendLog(tx, f.id, [{ at: new Date(), level: 'info', message: `Retry requested by ${caller.userName}` }]);
    await enqueueRequest(tx, f.id);
  }
  return failed.map((f) => f.id);
}

export interface RequestListFilter {
  status?: ProvisioningStatus;
  customerId?: number;
  /** Only top-level requests (default), or every request. */
  all?: boolean;
  limit?: number;
}

/** Newest requests first, in the caller's subtree. */
export function listRequests(db: Executor, caller: Caller, filter: RequestListFilter = {}) {
  let q = db
    .selectFrom('provisioning_requests')
    .innerJoin('customers', 'customers.id', 'provisioning_requests.customer_id')
    .select([
      'provisioning_requests.id', 'provisioning_requests.parent_id', 'provisioning_requests.entity', 'provisioning_requests.entity_id',
      'provisioning_requests.action', 'provisioning_requests.status', 'provisioning_requests.attempts', 'provisioning_requests.requested_by',
      'provisioning_requests.created_at', 'provisioning_requests.finished_at', 'provisioning_requests.error', 'customers.name as customer',
    ])
    .where(customerInScope(caller));
  if (!filter.all) q = q.where('provisioning_requests.parent_id', 'is', null);
  if (filter.status) q = q.where('provisioning_requests.status', '=', filter.status);
  if (filter.customerId !== undefined) q = q.where('provisioning_requests.customer_id', '=', filter.customerId);
  return q.orderBy('provisioning_requests.id', 'desc').limit(filter.limit ?? 50).execute();
}
