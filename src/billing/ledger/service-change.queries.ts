import { sql } from 'kysely';
import type { Executor } from '../../core/db/database.js';

/**
 * Of one customer's user services, those the ledger shows as active: their latest own row opens
 * an interval (added or plan changed). A service already removed — its de-provision still
 * "Requested" — must not get a second `user_service_removed` when its user, customer service or
 * customer is de-provisioned after it.
 */
export async function userServicesActiveInLedger(
  db: Executor,
  customerId: number,
  userServiceIds: readonly number[],
): Promise<Set<number>> {
  if (userServiceIds.length === 0) return new Set();
  // customer_id first: the ledger is indexed by customer, not by user service.
  const r = await sql<{ id: number }>`
    select id from (
      select distinct on (user_service_id) user_service_id as id, action
      from service_changes
      where customer_id = ${customerId} and user_service_id = any(${[...userServiceIds]}::int[]) and action like 'user\\_service\\_%'
      order by user_service_id, occurred_at desc, id desc
    ) last
    where action in ('user_service_added', 'user_service_plan_changed')`.execute(db);
  return new Set(r.rows.map((row) => Number(row.id)));
}
