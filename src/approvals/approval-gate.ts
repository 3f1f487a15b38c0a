import { randomUUID } from 'node:crypto';
import type { Tx } from '../core/db/database.js';
import { setEntityStatus } from '../provisioning/entity-status.queries.js';
import { onApprovalHold } from '../provisioning/requests.js';
import type { RequestAction, RequestEntity } from '../provisioning/schema.js';
import { fullnameOf } from '../tenancy/user.service.js';
import { selectCustomerAdmins, selectGroupMembers, selectMatchingSubscriptions } from './approval.queries.js';
import { mailAddressOf, mailEnabled, queueMail } from '../mail/outbox.js';
import { WORKFLOW_GROUPS, type SubscriptionEvent, type SubscriptionTarget } from './schema.js';

interface HeldRequest {
  id: number;
  entity: RequestEntity;
  entity_id: number;
  customer_id: number;
  action: RequestAction;
  requested_by_user_id: number | null;
}

const TARGET: Partial<Record<RequestEntity, SubscriptionTarget>> = {
  customer: 'customers',
  user: 'users',
  customer_service: 'services',
  user_service: 'userservices',
};

const EVENT: Partial<Record<RequestAction, SubscriptionEvent>> = {
  provision: 'Provision',
  deprovision: 'Deprovision',
  delete: 'Deprovision',
};

/**
 * Holds a new top-level provisioning request while the approvals its customer subscribes to are
 * outstanding (seed: "Workflow approval is triggered at the object level"). Creates one approval
 * per subscribed provider or group, each with a response (GUID) per approver, and marks the
 * request and its entity Pending. Returns false, changing nothing, when no approval applies.
 */
export async function holdForApproval(tx: Tx, requestId: number): Promise<boolean> {
  const request = await tx
    .selectFrom('provisioning_requests')
    .select(['id', 'entity', 'entity_id', 'customer_id', 'action', 'requested_by_user_id'])
    .where('id', '=', requestId)
    .executeTakeFirstOrThrow();
  const target = TARGET[request.entity];
  const event = EVENT[request.action];
  if (!target || !event) return false;
  const subject = await subjectOf(tx, request);
  if (!subject) return false;
  const subscriptions = await selectMatchingSubscriptions(tx, subject.ownerId, target, event, subject.serviceId).execute();
  const seen = new Set<string>();
  let held = false;
  for (const s of subscriptions) {
    const key = `${s.provider_id}:${s.group_id ?? 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const approvers = await approversFor(tx, s, subject.ownerId, request.requested_by_user_id);
    if (approvers.users.length === 0) continue;
    const approval = await tx
      .insertInto('approval_requests')
      .values({
        customer_id: request.customer_id,
        provisioning_request_id: request.id,
        provider_id: s.provider_id,
        group_id: s.group_id,
        description: `${event} ${subject.kind} - ${subject.label}`,
        required: Math.min(approvers.required, approvers.users.length),
        requested_by_user_id: request.requested_by_user_id,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const responses = approvers.users.map((user_id) => ({ id: randomUUID(), approval_request_id: approval.id, user_id }));
    await tx.insertInto('approval_responses').values(responses).execute();
    await mailApprovers(tx, `${event} ${subject.kind} - ${subject.label}`, request.id, responses);
    held = true;
  }
  if (!held) return false;
  await tx.updateTable('provisioning_requests').set({ status: 'Pending' }).where('id', '=', request.id).execute();
  await setEntityStatus(tx, request.entity, request.entity_id, 'Pending');
  if (request.entity === 'customer_service')
    await tx.updateTable('customer_services').set({ approval_pending: true }).where('id', '=', request.entity_id).execute();
  return true;
}

interface Subject {
  /** The customer whose subscriptions apply: a new customer is approved under its parent's. */
  ownerId: number;
  serviceId: number | null;
  kind: string;
  label: string;
}

async function subjectOf(tx: Tx, r: HeldRequest): Promise<Subject | undefined> {
  switch (r.entity) {
    case 'customer': {
      const c = await tx.selectFrom('customers').select(['parent_id', 'fullname']).where('id', '=', r.entity_id).executeTakeFirst();
      return c?.parent_id ? { ownerId: c.parent_id, serviceId: null, kind: 'Customer', label: c.fullname } : undefined;
    }
    case 'user': {
      const u = await tx
        .selectFrom('users')
        .select(['name', 'display_name', 'first_name', 'last_name'])
        .where('id', '=', r.entity_id)
        .executeTakeFirst();
      return (
        u && {
          ownerId: r.customer_id,
          serviceId: null,
          kind: 'User',
          label: fullnameOf({ name: u.name, displayName: u.display_name, firstName: u.first_name, lastName: u.last_name }),
        }
      );
    }
    case 'customer_service': {
      const cs = await tx
        .selectFrom('customer_services')
        .innerJoin('services', 'services.id', 'customer_services.service_id')
        .select(['services.id', 'services.fullname'])
        .where('customer_services.id', '=', r.entity_id)
        .executeTakeFirst();
      return cs && { ownerId: r.customer_id, serviceId: cs.id, kind: 'Customer Service', label: cs.fullname };
    }
    case 'user_service': {
      const us = await tx
        .selectFrom('user_services')
        .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
        .innerJoin('services', 'services.id', 'customer_services.service_id')
        .innerJoin('users', 'users.id', 'user_services.user_id')
        .select(['services.id', 'services.fullname', 'users.name', 'users.display_name', 'users.first_name', 'users.last_name'])
        .where('user_services.id', '=', r.entity_id)
        .executeTakeFirst();
      if (!us) return undefined;
      const who = fullnameOf({ name: us.name, displayName: us.display_name, firstName: us.first_name, lastName: us.last_name });
      return { ownerId: r.customer_id, serviceId: us.id, kind: 'User Service', label: `${us.fullname} for ${who}` };
    }
    default:
      return undefined;
  }
}

/**
 * Workflow Groups: the group's provisioned members, `memberstoapprove` of them must accept.
 * Workflow Managers: the customer's administrators (up to `managers` of them), one acceptance
 * suffices. Nobody approves their own change.
 */
async function approversFor(
  tx: Tx,
  s: { provider: string; provider_id: number; group_id: number | null },
  customerId: number,
  requesterId: number | null,
): Promise<{ users: number[]; required: number }> {
  if (s.provider === WORKFLOW_GROUPS && s.group_id !== null) {
    const group = await tx.selectFrom('approval_groups').select('configuration').where('id', '=', s.group_id).executeTakeFirstOrThrow();
    const members = await selectGroupMembers(tx, [s.group_id]).execute();
    const users = members.filter((m) => m.deleted_at === null && m.status !== 'NotProvisioned' && m.id !== requesterId).map((m) => m.id);
    return { users, required: positive(group.configuration.memberstoapprove, 1) };
  }
  const settings = await tx
    .selectFrom('approval_provider_settings')
    .select('configuration')
    .where('customer_id', '=', customerId)
    .where('provider_id', '=', s.provider_id)
    .executeTakeFirst();
  const admins = (await selectCustomerAdmins(tx, customerId).execute()).map((a) => a.id).filter((id) => id !== requesterId);
  return { users: admins.slice(0, positive(settings?.configuration.managers, admins.length || 1)), required: 1 };
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

// Loading the approvals module switches the gate on for every request the process creates.
onApprovalHold(holdForApproval);

/** seed 002: approvers are asked by mail (when a mail server is configured), each with its own response id. */
async function mailApprovers(tx: Tx, description: string, requestId: number, responses: { id: string; user_id: number }[]): Promise<void> {
  if (!mailEnabled()) return;
  const users = await tx
    .selectFrom('users')
    .select(['id', 'name', 'upn', 'external_email'])
    .where(
      'id',
      'in',
      responses.map((r) => r.user_id),
    )
    .execute();
  for (const r of responses) {
    const user = users.find((u) => u.id === r.user_id)!;
    await queueMail(tx, {
      kind: 'approval',
      to: mailAddressOf(user),
      subject: `Approval needed: ${description}`,
      text: approvalText(user.name, description, requestId, r.id),
    });
  }
}

/** The body of an approval request or reminder: what waits, and how to answer. */
export function approvalText(userName: string, description: string, requestId: number, responseId: string, reminder = false): string {
  return [
    `Hello ${userName},`,
    '',
    `${reminder ? 'Reminder: this change is still waiting' : 'A change is waiting'} for your approval: ${description} (provisioning request ${requestId}).`,
    '',
    `Answer it in the Tenantry console, or with a CortexAPI SET of your approval response ${responseId} (Approve or Reject).`,
  ].join('\n');
}
