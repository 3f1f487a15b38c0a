import type { Executor } from '../../core/db/database.js';
import type { Caller } from '../../tenancy/caller.js';
import { getCustomer } from '../../tenancy/customer.service.js';
import type { ServiceChangeAction } from './schema.js';

export interface RecentServiceChange {
  id: number;
  occurredAt: Date;
  action: ServiceChangeAction;
  user: { id: number; name: string } | null;
  serviceCode: string | null;
  planCode: string | null;
  instanceName: string | null;
  quantity: string;
  actionedBy: string;
}

/** The latest ledger rows of one customer in the caller's reach, newest first (customer detail page). */
export async function recentServiceChanges(db: Executor, caller: Caller, customerId: number, limit = 50): Promise<RecentServiceChange[]> {
  const customer = await getCustomer(db, caller, { id: customerId });
  const rows = await db
    .selectFrom('service_changes as sc')
    .leftJoin('users as u', 'u.id', 'sc.user_id')
    .leftJoin('services as s', 's.id', 'sc.service_id')
    .select([
      'sc.id',
      'sc.occurred_at',
      'sc.action',
      'sc.user_id',
      'u.name as user_name',
      's.code as service_code',
      'sc.plan_code',
      'sc.instance_name',
      'sc.quantity',
      'sc.actor_name',
    ])
    .where('sc.customer_id', '=', customer.id)
    .orderBy('sc.occurred_at', 'desc')
    .orderBy('sc.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    occurredAt: r.occurred_at,
    action: r.action,
    user: r.user_id !== null ? { id: r.user_id, name: r.user_name ?? '' } : null,
    serviceCode: r.service_code,
    planCode: r.plan_code,
    instanceName: r.instance_name,
    quantity: String(r.quantity),
    actionedBy: r.actor_name,
  }));
}
