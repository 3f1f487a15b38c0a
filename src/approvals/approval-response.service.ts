import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import { releaseRequest } from '../provisioning/requests.js';
import { setEntityStatus } from '../provisioning/entity-status.queries.js';
import { hasPermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import { fullnameOf, type User } from '../tenancy/user.service.js';
import { selectApprovalRequests, selectResponses } from './approval.queries.js';
import { APPROVAL_STATUSES, type ApprovalStatus } from './schema.js';

export interface Person {
  name: string;
  fullname: string;
  email: string | null;
}

export interface ApprovalSubscriptionView {
  id: string;
  requestDate: Date;
  resolvedDate: Date | null;
  status: ApprovalStatus;
  reason: string | null;
  user: Person;
}

export interface ApprovalView {
  description: string;
  status: ApprovalStatus;
  requestDate: Date;
  resolvedDate: Date | null;
  customer: { name: string; fullname: string };
  requestedBy: Person | undefined;
  provisioningRequestId: number;
  subscriptions: ApprovalSubscriptionView[];
}

export interface ApprovalFilter {
  /** Only approvals this user is asked for, showing only the user's own responses. */
  user?: User;
  /** Resolved approvals too (seed: filter="all"); by default only pending ones. */
  all?: boolean;
}

/** Approval requests of the customer and its sub-customers (seed: sub-customer requests are approved here too). */
export async function approvalsOf(db: Executor, caller: Caller, customer: Customer, filter: ApprovalFilter = {}): Promise<ApprovalView[]> {
  let q = selectApprovalRequests(db, caller).where('customers.path', 'like', `${customer.path}%`);
  if (!filter.all) q = q.where('approval_requests.status', '=', 'Pending');
  if (filter.user) {
    const userId = filter.user.id;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('approval_responses')
          .select('approval_responses.id')
          .whereRef('approval_responses.approval_request_id', '=', 'approval_requests.id')
          .where('approval_responses.user_id', '=', userId),
      ),
    );
  }
  return viewsOf(db, await q.execute(), filter.user);
}

type ApprovalRow = Awaited<ReturnType<ReturnType<typeof selectApprovalRequests>['execute']>>[number];

/** Approval rows with their responses (only `user`'s when given). */
async function viewsOf(db: Executor, rows: ApprovalRow[], user?: User): Promise<ApprovalView[]> {
  const responses = rows.length
    ? await selectResponses(
        db,
        rows.map((r) => r.id),
      ).execute()
    : [];
  return rows.map((r) => ({
    description: r.description,
    status: r.status,
    requestDate: r.requested_at,
    resolvedDate: r.resolved_at,
    customer: { name: r.customer_name, fullname: r.customer_fullname },
    requestedBy: r.requester_name
      ? {
          name: r.requester_name,
          fullname: fullnameOf({
            name: r.requester_name,
            displayName: r.requester_display_name,
            firstName: r.requester_first_name,
            lastName: r.requester_last_name,
          }),
          email: r.requester_email ?? r.requester_upn,
        }
      : undefined,
    provisioningRequestId: r.provisioning_request_id,
    subscriptions: responses
      .filter((s) => s.approval_request_id === r.id && (!user || s.user_id === user.id))
      .map((s) => ({
        id: s.id,
        requestDate: s.requested_at,
        resolvedDate: s.resolved_at,
        status: s.status,
        reason: s.reason,
        user: {
          name: s.user_name,
          fullname: fullnameOf({ name: s.user_name, displayName: s.display_name, firstName: s.first_name, lastName: s.last_name }),
          email: s.external_email ?? s.upn,
        },
      })),
  }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const approvalNotFound = (id: string): DomainError =>
  new DomainError('InvalidReference', `Approval subscription '${id}' not found.`, { id });

/** The approval holding a response (subscription id), if the caller may see it. */
export async function getApproval(db: Executor, caller: Caller, subscriptionId: string): Promise<ApprovalView> {
  const id = subscriptionId.trim();
  if (!UUID.test(id)) throw approvalNotFound(id);
  const response = await db.selectFrom('approval_responses').select('approval_request_id').where('id', '=', id).executeTakeFirst();
  const row =
    response &&
    (await selectApprovalRequests(db, caller).where('approval_requests.id', '=', response.approval_request_id).executeTakeFirst());
  return must(row && (await viewsOf(db, [row]))[0], () => approvalNotFound(id));
}

export interface ApprovalAnswer {
  id: string;
  status: string;
  reason?: string;
}

/**
 * Records an approver's answer. The approver answers for itself; an administrator who manages
 * the customer's users may answer on an approver's behalf (the seed's customer-level SET).
 * When the last needed acceptance arrives the held request is released to the workers; one
 * rejection fails it. Returns the provisioning request the approval was holding.
 */
export async function answerApproval(tx: Tx, caller: Caller, customer: Customer, answer: ApprovalAnswer, asUser?: User): Promise<number> {
  const id = answer.id.trim();
  const status = APPROVAL_STATUSES.find((s) => s !== 'Pending' && s.toLowerCase() === answer.status.trim().toLowerCase());
  if (!status) throw new DomainError('InvalidStatus', `The approval status '${answer.status}' is not valid: use Accepted or Rejected.`);
  if (!UUID.test(id)) throw approvalNotFound(id);
  const response = must(
    await tx
      .selectFrom('approval_responses')
      .innerJoin('approval_requests', 'approval_requests.id', 'approval_responses.approval_request_id')
      .innerJoin('customers', 'customers.id', 'approval_requests.customer_id')
      .select([
        'approval_responses.user_id',
        'approval_responses.status',
        'approval_requests.id as approval_id',
        'approval_requests.status as approval_status',
        'approval_requests.provisioning_request_id',
        'customers.path',
      ])
      .where('approval_responses.id', '=', id)
      .where('customers.path', 'like', `${customer.path}%`)
      .forUpdate()
      .executeTakeFirst(),
    () => approvalNotFound(id),
  );
  if (asUser && response.user_id !== asUser.id) throw approvalNotFound(id);
  if (response.user_id !== caller.userId && !hasPermission(caller, 'Manage Users')) {
    throw new DomainError('NotAuthorized', 'Only the approver or an administrator of the customer may answer this approval.');
  }
  if (response.approval_status !== 'Pending' || response.status !== 'Pending') {
    throw new DomainError('InvalidStatus', `Approval subscription '${id}' has already been answered.`);
  }
  const now = new Date();
  await tx
    .updateTable('approval_responses')
    .set({ status, reason: answer.reason ?? null, resolved_at: now })
    .where('id', '=', id)
    .execute();
  await settleApproval(tx, response.approval_id, now);
  await settleRequest(tx, response.provisioning_request_id, now);
  return response.provisioning_request_id;
}

async function settleApproval(tx: Tx, approvalId: number, now: Date): Promise<void> {
  const approval = await tx.selectFrom('approval_requests').select('required').where('id', '=', approvalId).executeTakeFirstOrThrow();
  const answers = await tx.selectFrom('approval_responses').select('status').where('approval_request_id', '=', approvalId).execute();
  const outcome: ApprovalStatus | undefined = answers.some((a) => a.status === 'Rejected')
    ? 'Rejected'
    : answers.filter((a) => a.status === 'Accepted').length >= approval.required
      ? 'Accepted'
      : undefined;
  if (outcome) await tx.updateTable('approval_requests').set({ status: outcome, resolved_at: now }).where('id', '=', approvalId).execute();
}

/** A request waits for every approval holding it; one rejection (or timeout: `reason`) fails it. */
export async function settleRequest(tx: Tx, requestId: number, now: Date, reason = 'Rejected by an approver.'): Promise<void> {
  const approvals = await tx.selectFrom('approval_requests').select('status').where('provisioning_request_id', '=', requestId).execute();
  const rejected = approvals.some((a) => a.status === 'Rejected');
  if (!rejected && approvals.some((a) => a.status === 'Pending')) return;
  const request = await tx
    .selectFrom('provisioning_requests')
    .select(['entity', 'entity_id'])
    .where('id', '=', requestId)
    .executeTakeFirstOrThrow();
  if (request.entity === 'customer_service')
    await tx.updateTable('customer_services').set({ approval_pending: false }).where('id', '=', request.entity_id).execute();
  if (!rejected) return releaseRequest(tx, requestId);
  await tx
    .updateTable('approval_requests')
    .set({ status: 'Rejected', resolved_at: now })
    .where('provisioning_request_id', '=', requestId)
    .where('status', '=', 'Pending')
    .execute();
  await tx
    .updateTable('provisioning_requests')
    .set({ status: 'Failed', error: reason, finished_at: now })
    .where('id', '=', requestId)
    .where('status', '=', 'Pending')
    .execute();
  await setEntityStatus(tx, request.entity, request.entity_id, 'Failed');
}

/** Whether an object waits on approval (the seed's read-only <approvalpending>). */
export async function isApprovalPending(
  db: Executor,
  entity: 'customer' | 'user' | 'customer_service' | 'user_service',
  entityId: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('approval_requests')
    .innerJoin('provisioning_requests', 'provisioning_requests.id', 'approval_requests.provisioning_request_id')
    .select('approval_requests.id')
    .where('provisioning_requests.entity', '=', entity)
    .where('provisioning_requests.entity_id', '=', entityId)
    .where('approval_requests.status', '=', 'Pending')
    .executeTakeFirst();
  return row !== undefined;
}
