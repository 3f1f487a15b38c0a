import type { ExpressionBuilder } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import type { Tables } from '../core/db/tables.js';
import { customerInScope, type Caller } from '../tenancy/caller.js';
import type { SubscriptionAccess, SubscriptionEvent, SubscriptionTarget } from './schema.js';

export function selectProviders(db: Executor) {
  return db.selectFrom('approval_providers').selectAll().where('enabled', '=', true).orderBy('id');
}

export function selectSettings(db: Executor, customerId: number) {
  return db.selectFrom('approval_provider_settings').selectAll().where('customer_id', '=', customerId);
}

export async function upsertSettings(tx: Tx, customerId: number, providerId: number, configuration: Record<string, string>): Promise<void> {
  const json = JSON.stringify(configuration);
  await tx
    .insertInto('approval_provider_settings')
    .values({ customer_id: customerId, provider_id: providerId, configuration: json })
    .onConflict((oc) => oc.columns(['customer_id', 'provider_id']).doUpdateSet({ configuration: json }))
    .execute();
}

export function selectGroups(db: Executor, customerId: number) {
  return db.selectFrom('approval_groups').selectAll().where('customer_id', '=', customerId).orderBy('name');
}

export function selectGroupMembers(db: Executor, groupIds: number[]) {
  return db
    .selectFrom('approval_group_members')
    .innerJoin('users', 'users.id', 'approval_group_members.user_id')
    .select([
      'approval_group_members.group_id',
      'users.id',
      'users.name',
      'users.display_name',
      'users.first_name',
      'users.last_name',
      'users.status',
      'users.deleted_at',
    ])
    .where('approval_group_members.group_id', 'in', groupIds)
    .orderBy((eb) => eb.fn('lower', ['users.name']));
}

export function selectSubscriptions(db: Executor, customerId: number) {
  return db
    .selectFrom('approval_subscriptions')
    .leftJoin('services', 'services.id', 'approval_subscriptions.service_id')
    .selectAll('approval_subscriptions')
    .select(['services.fullname as service_label'])
    .where('approval_subscriptions.customer_id', '=', customerId)
    .orderBy('approval_subscriptions.id');
}

export interface SubscriptionKey {
  customerId: number;
  providerId: number;
  groupId: number | null;
  target: SubscriptionTarget;
  serviceId: number | null;
  event: SubscriptionEvent;
}

export async function upsertSubscription(tx: Tx, key: SubscriptionKey, access: SubscriptionAccess): Promise<void> {
  const updated = await tx
    .updateTable('approval_subscriptions')
    .set({ access })
    .where((eb) => isKey(eb, key))
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) return;
  await tx
    .insertInto('approval_subscriptions')
    .values({
      customer_id: key.customerId,
      provider_id: key.providerId,
      group_id: key.groupId,
      target: key.target,
      service_id: key.serviceId,
      event: key.event,
      access,
    })
    .execute();
}

export async function deleteSubscription(tx: Tx, key: SubscriptionKey): Promise<void> {
  await tx
    .deleteFrom('approval_subscriptions')
    .where((eb) => isKey(eb, key))
    .execute();
}

/** The one row of this key (group and service null-safe), for an update or a delete. */
function isKey(eb: ExpressionBuilder<Tables, 'approval_subscriptions'>, key: SubscriptionKey) {
  return eb.and([
    eb('customer_id', '=', key.customerId),
    eb('provider_id', '=', key.providerId),
    eb('target', '=', key.target),
    eb('event', '=', key.event),
    key.groupId === null ? eb('group_id', 'is', null) : eb('group_id', '=', key.groupId),
    key.serviceId === null ? eb('service_id', 'is', null) : eb('service_id', '=', key.serviceId),
  ]);
}

/** Subscriptions of a customer that ask for approval of this kind of change. */
export function selectMatchingSubscriptions(
  db: Executor,
  customerId: number,
  target: SubscriptionTarget,
  event: SubscriptionEvent,
  serviceId: number | null,
) {
  return db
    .selectFrom('approval_subscriptions')
    .innerJoin('approval_providers', 'approval_providers.id', 'approval_subscriptions.provider_id')
    .select(['approval_subscriptions.provider_id', 'approval_subscriptions.group_id', 'approval_providers.name as provider'])
    .where('approval_providers.enabled', '=', true)
    .where('approval_subscriptions.customer_id', '=', customerId)
    .where('approval_subscriptions.target', '=', target)
    .where('approval_subscriptions.event', '=', event)
    .where('approval_subscriptions.access', '<>', 'None')
    .where((eb) =>
      eb.or([
        eb('approval_subscriptions.service_id', 'is', null),
        ...(serviceId === null ? [] : [eb('approval_subscriptions.service_id', '=', serviceId)]),
      ]),
    )
    .orderBy('approval_subscriptions.id');
}

/** Users of a customer who may manage its users: Workflow Managers asks them. */
export function selectCustomerAdmins(db: Executor, customerId: number) {
  return db
    .selectFrom('users')
    .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
    .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .select('users.id')
    .distinct()
    .where('users.customer_id', '=', customerId)
    .where('users.deleted_at', 'is', null)
    .where('users.enabled', '=', true)
    .where('role_permissions.permission', '=', 'Manage Users')
    .orderBy('users.id');
}

/** Approval requests of customers in the caller's reach, newest first, with who asked. */
export function selectApprovalRequests(db: Executor, caller: Caller) {
  return db
    .selectFrom('approval_requests')
    .innerJoin('customers', 'customers.id', 'approval_requests.customer_id')
    .leftJoin('users as requester', 'requester.id', 'approval_requests.requested_by_user_id')
    .selectAll('approval_requests')
    .select([
      'customers.name as customer_name',
      'customers.fullname as customer_fullname',
      'customers.path as customer_path',
      'requester.name as requester_name',
      'requester.display_name as requester_display_name',
      'requester.first_name as requester_first_name',
      'requester.last_name as requester_last_name',
      'requester.upn as requester_upn',
      'requester.external_email as requester_email',
    ])
    .where(customerInScope(caller))
    .orderBy('approval_requests.id');
}

export function selectResponses(db: Executor, approvalRequestIds: number[]) {
  return db
    .selectFrom('approval_responses')
    .innerJoin('users', 'users.id', 'approval_responses.user_id')
    .selectAll('approval_responses')
    .select(['users.name as user_name', 'users.display_name', 'users.first_name', 'users.last_name', 'users.upn', 'users.external_email'])
    .where('approval_responses.approval_request_id', 'in', approvalRequestIds)
    .orderBy('approval_responses.requested_at')
    .orderBy((eb) => eb.fn('lower', ['users.name']));
}
