/*
 * What the billing report's charts show: units per SKU over the last periods, and the customers
 * whose quantities changed most in one period. Scoped like the summary (the caller's subtree);
 * units are exact decimal strings summed in SQL.
 */
import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { customerInScopeSql, type Caller } from '../tenancy/caller.js';
import { periodName } from './periods/period-kinds.js';
import { getPeriodByEndDate } from './summary.js';

export interface SkuUnitsPoint {
  endDate: string;
  sku: string | null;
  /** Units active at the period's end (for the open period: as of its last billing run). */
  units: string;
}

export interface SkuTrend {
  periods: { endDate: string; periodName: string }[];
  points: SkuUnitsPoint[];
}

export interface ChangedCustomer {
  customerId: number;
  customerCode: string;
  customerName: string;
  previousPeriod: string;
  currentPeriod: string;
  /** Units added plus units removed across the customer's SKUs (a swap of one SKU for another counts both). */
  changed: string;
}

/** Units per SKU at the end of each of the `count` periods up to the one ending `endDate`, oldest first. */
export async function skuUnitsTrend(
  db: Executor,
  caller: Caller,
  q: { endDate: string; count?: number; billable?: boolean },
): Promise<SkuTrend> {
  const last = await getPeriodByEndDate(db, q.endDate);
  const count = Math.min(Math.max(q.count ?? 12, 1), 36);
  const periods = await sql<{ id: number; endDate: string }>`
    select id, to_char(end_date, 'YYYY-MM-DD') as "endDate" from bill_periods
    where end_date <= ${last.endDate}::date order by end_date desc limit ${count}`.execute(db);
  const ids = periods.rows.map((p) => p.id);
  const points = await sql<SkuUnitsPoint>`
    select to_char(p.end_date, 'YYYY-MM-DD') as "endDate", i.sku, trim_scale(sum(i.quantity))::text as units
    from bill_items i join bill_periods p on p.id = i.bill_period_id join customers c on c.id = i.customer_id
    where i.bill_period_id in (${sql.join(ids.length ? ids : [0])}) and i.ended_at is null and ${customerInScopeSql(caller)}
      ${q.billable ? sql`and i.is_billable` : sql``}
    group by p.end_date, i.sku
    order by p.end_date, i.sku nulls last`.execute(db);
  return {
    periods: periods.rows.reverse().map((p) => ({ endDate: p.endDate, periodName: periodName(p.endDate) })),
    points: points.rows,
  };
}

/** The `limit` customers whose units changed most in the period ending `endDate` (ties: by code). */
export async function topChangedCustomers(
  db: Executor,
  caller: Caller,
  q: { endDate: string; limit?: number; billable?: boolean },
): Promise<ChangedCustomer[]> {
  const period = await getPeriodByEndDate(db, q.endDate);
  const limit = Math.min(Math.max(q.limit ?? 10, 1), 100);
  const r = await sql<ChangedCustomer>`
    with per_sku as (
      select i.customer_id, i.sku,
             coalesce(sum(i.quantity) filter (where i.started_at < ${period.startsAt}), 0) as prev,
             coalesce(sum(i.quantity) filter (where i.ended_at is null), 0) as cur
      from bill_items i join customers c on c.id = i.customer_id
      where i.bill_period_id = ${period.id} and ${customerInScopeSql(caller)} ${q.billable ? sql`and i.is_billable` : sql``}
      group by i.customer_id, i.sku
    )
    select c.id as "customerId", c.name as "customerCode", c.fullname as "customerName",
           trim_scale(sum(s.prev))::text as "previousPeriod", trim_scale(sum(s.cur))::text as "currentPeriod",
           trim_scale(sum(abs(s.cur - s.prev)))::text as changed
    from per_sku s join customers c on c.id = s.customer_id
    group by c.id, c.name, c.fullname
    having sum(abs(s.cur - s.prev)) <> 0
    order by sum(abs(s.cur - s.prev)) desc, c.name
    limit ${limit}`.execute(db);
  return r.rows;
}
