import type { Tx } from '../../core/db/database.js';
import type { Caller } from '../../tenancy/caller.js';
import type { ServiceChangeAction } from './schema.js';
import { userServicesActiveInLedger } from './service-change.queries.js';

export interface ServiceChange {
  action: ServiceChangeAction;
  customerId: number;
  userId?: number | null;
  serviceId?: number | null;
  customerServiceId?: number | null;
  userServiceId?: number | null;
  instanceId?: number | null;
  instanceName?: string | null;
  planCode?: string | null;
  planName?: string | null;
  sku?: string | null;
  /** Exact decimal as a string; 1 unless the change says otherwise. */
  quantity?: string;
  details?: Record<string, unknown>;
  /** When the change took effect; defaults to the transaction's time. Set only when recording a past change (imports, corrections). */
  occurredAt?: Date;
}

/** Appends one row to the service-change ledger, inside the transaction of the change itself. */
export async function recordServiceChange(tx: Tx, caller: Caller, change: ServiceChange): Promise<void> {
  await tx
    .insertInto('service_changes')
    .values({
      ...(change.occurredAt ? { occurred_at: change.occurredAt } : {}),
      action: change.action,
      actor_user_id: caller.userId,
      actor_name: caller.userName,
      customer_id: change.customerId,
      user_id: change.userId ?? null,
      service_id: change.serviceId ?? null,
      customer_service_id: change.customerServiceId ?? null,
      user_service_id: change.userServiceId ?? null,
      instance_id: change.instanceId ?? null,
      instance_name: change.instanceName ?? null,
      plan_code: change.planCode ?? null,
      plan_name: change.planName ?? null,
      sku: change.sku ?? null,
      quantity: change.quantity ?? '1',
      details: JSON.stringify(change.details ?? {}),
    })
    .execute();
}

/**
 * Records `user_service_removed` in the ledger for each of the customer's user services being
 * de-provisioned. One removed on its own earlier is still "Requested": its removal is already in the ledger.
 */
export async function recordUserServicesRemoved(
  tx: Tx,
  caller: Caller,
  customerId: number,
  userServices: readonly { id: number; user_id: number; customer_service_id: number; service_id: number }[],
): Promise<void> {
  const billed = await userServicesActiveInLedger(
    tx,
    customerId,
    userServices.map((us) => us.id),
  );
  for (const us of userServices.filter((us) => billed.has(us.id))) {
    await recordServiceChange(tx, caller, {
      action: 'user_service_removed',
      customerId,
      userId: us.user_id,
      serviceId: us.service_id,
      customerServiceId: us.customer_service_id,
      userServiceId: us.id,
      quantity: '0',
    });
  }
}
