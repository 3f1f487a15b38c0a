import type { Selectable } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { customerInScope, type Caller } from '../tenancy/caller.js';
import type { ProvisioningRequestsTable, RequestLogTable, RequestTimesTable } from './schema.js';

export type RequestRow = Selectable<ProvisioningRequestsTable>;
export type RequestLogRow = Selectable<RequestLogTable>;
export type RequestTimeRow = Selectable<RequestTimesTable>;

/**
 * Requests whose owning customer lies in the caller's subtree. Deleted customers keep their
 * path, so the request that deleted a customer stays visible to whoever could see it.
 */
function scopedRequests(db: Executor, caller: Caller) {
  return db
    .selectFrom('provisioning_requests')
    .innerJoin('customers', 'customers.id', 'provisioning_requests.customer_id')
    .selectAll('provisioning_requests')
    .where(customerInScope(caller));
}

export function selectRequestById(db: Executor, caller: Caller, id: number) {
  return scopedRequests(db, caller).where('provisioning_requests.id', '=', id);
}

export function selectRequestsByParent(db: Executor, caller: Caller, parentId: number) {
  return scopedRequests(db, caller)
    .where('provisioning_requests.parent_id', '=', parentId)
    .orderBy('provisioning_requests.sequence')
    .orderBy('provisioning_requests.id');
}

export function selectRequestLog(db: Executor, requestIds: number[]) {
  return db.selectFrom('request_log').selectAll().where('request_id', 'in', requestIds).orderBy('request_id').orderBy('id');
}

export function selectRequestTimes(db: Executor, requestIds: number[]) {
  return db.selectFrom('request_times').selectAll().where('request_id', 'in', requestIds).orderBy('request_id').orderBy('id');
}
