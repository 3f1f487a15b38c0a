import { sql } from 'kysely';
import { inTransaction, type DB } from '../../src/core/db/database.js';
import { recordServiceChange, type ServiceChange } from '../../src/billing/ledger/record-change.js';
import { setBillingSettings, type BillingSettings } from '../../src/billing/periods/bill-periods.js';
import type { Caller } from '../../src/tenancy/caller.js';

/** Writes ledger rows at explicit instants, as the domain services would have at that time. */
export async function ledger(db: DB, caller: Caller, rows: (ServiceChange & { at: string })[]): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const { at, ...change } of rows) await recordServiceChange(tx, caller, { ...change, occurredAt: new Date(at) });
  });
}

/**
 * Starts a billing scenario: new settings, effective as of `asOf` (periods ending after it are
 * dropped), and the ledger emptied of earlier scenarios' rows so only this scenario's changes count.
 */
export async function freshScenario(db: DB, caller: Caller, settings: BillingSettings, asOf = '2000-01-01T00:00:00Z'): Promise<void> {
  await sql`alter table service_changes disable trigger service_changes_no_update`.execute(db);
  await sql`delete from service_changes`.execute(db);
  await sql`alter table service_changes enable trigger service_changes_no_update`.execute(db);
  await sql`delete from bill_items`.execute(db);
  await sql`delete from bill_periods`.execute(db);
  await sql`delete from billing_rules`.execute(db);
  await inTransaction(db, (tx) => setBillingSettings(tx, caller, settings, new Date(asOf)));
}

export interface ItemRow {
  service_change_id: number;
  item_kind: number;
  customer_id: number;
  bill_customer_id: number;
  user_id: number | null;
  user_service_id: number | null;
  plan_code: string | null;
  sku: string | null;
  action: string;
  percent_duration: string;
  quantity: string;
  is_billable: boolean;
  override_reason: string | null;
  bill_config_rule_id: number | null;
  summary_grouping: string;
  line_description: string;
  started_at: Date;
  ended_at: Date | null;
  removed_by_user_name: string | null;
  id: number;
}

/** The stored items of the period ending `endDate`, in ledger order. */
export async function itemsOf(db: DB, endDate: string): Promise<ItemRow[]> {
  const r = await sql<ItemRow>`
    select i.* , i.percent_duration::text as percent_duration, trim_scale(i.quantity)::text as quantity
    from bill_items i join bill_periods p on p.id = i.bill_period_id
    where p.end_date = ${endDate}::date order by i.service_change_id`.execute(db);
  return r.rows;
}
