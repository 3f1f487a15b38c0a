import { sql } from 'kysely';
import type { DB, Tx } from '../../core/db/database.js';
import type { Caller } from '../../tenancy/caller.js';
import { resolvePeriod, type BillPeriod } from '../periods/bill-periods.js';
import { runBilling, type RunBillingOptions } from './run-billing.js';

/** A customer and SKU whose billable units at the period's end a run would change (decimal strings). */
export interface QuantityDelta {
  customerId: number;
  customerCode: string;
  customerName: string;
  billingId: string | null;
  sku: string | null;
  before: string;
  after: string;
}

/** What a billing run would do to one period. */
export interface PeriodPreview {
  period: BillPeriod;
  /** Items the period would hold. */
  items: number;
  /** Items for ledger intervals the period does not hold yet. */
  added: number;
  /** Items whose values would be rewritten (a rule, name, end or quantity changed). */
  changed: number;
  /** Items the period holds that the ledger no longer produces. */
  removed: number;
  quantities: QuantityDelta[];
}

/**
 * What `runBilling` with these options would change, without writing anything: the real run
 * executes inside one transaction that is rolled back at the end (its per-period transactions
 * become savepoints), and the period's items are compared before and after. The preview thus
 * follows the run's own set-based SQL, however that evolves, and takes the same period lock.
 */
export async function previewBilling(db: DB, caller: Caller, opts: Omit<RunBillingOptions, 'onProgress'> = {}): Promise<PeriodPreview[]> {
  let previews: PeriodPreview[] = [];
  try {
    await db.transaction().execute(async (tx) => {
      await snapshotItems(tx, opts);
      const results = await runBilling(withSavepoints(tx), caller, opts);
      previews = [];
      for (const r of results)
        previews.push({
          period: r.period,
          items: r.items,
          ...(await itemCounts(tx, r.period.id)),
          quantities: await quantityDeltas(tx, r.period.id),
        });
      throw new RolledBack();
    });
  } catch (e) {
    if (!(e instanceof RolledBack)) throw e;
  }
  return previews;
}

class RolledBack extends Error {}

/**
 * The items of every period the run may touch (a superset: the named period, or each one not
 * finalized yet), copied aside before the run rewrites them.
 */
async function snapshotItems(tx: Tx, opts: Omit<RunBillingOptions, 'onProgress'>): Promise<void> {
  const now = opts.now ?? new Date();
  const named = opts.period === undefined ? undefined : await resolvePeriod(tx, opts.period, now).catch(() => undefined);
  await sql`
    create temporary table billing_preview_before on commit drop as
    select id, bill_period_id, service_change_id, customer_id, sku, quantity, ended_at, is_billable
    from bill_items
    where bill_period_id in (
      select id from bill_periods
      where ${named ? sql`id = ${named.id}` : sql`finalized_at is null or ends_at > ${now}`}
    )`.execute(tx);
}

/** Rows the run kept have their old id; a rewritten row is a delete plus an insert of the same ledger interval. */
async function itemCounts(tx: Tx, periodId: number): Promise<{ added: number; changed: number; removed: number }> {
  const r = await sql<{ added: number; changed: number; removed: number }>`
    with b as (select id, service_change_id from billing_preview_before where bill_period_id = ${periodId}),
    a as (select id, service_change_id from bill_items where bill_period_id = ${periodId}),
    new_rows as (select a.service_change_id from a where not exists (select 1 from b where b.id = a.id)),
    old_rows as (select b.service_change_id from b where not exists (select 1 from a where a.id = b.id))
    select
      (select count(*) from new_rows n where not exists (select 1 from old_rows o where o.service_change_id = n.service_change_id))::int as added,
      (select count(*) from new_rows n where exists (select 1 from old_rows o where o.service_change_id = n.service_change_id))::int as changed,
      (select count(*) from old_rows o where not exists (select 1 from new_rows n where n.service_change_id = o.service_change_id))::int as removed
  `.execute(tx);
  return r.rows[0]!;
}

/** Billable units active at the period's end per customer and SKU (the billing summary's currentPeriod), where they differ. */
async function quantityDeltas(tx: Tx, periodId: number): Promise<QuantityDelta[]> {
  const r = await sql<QuantityDelta>`
    select x.customer_id as "customerId", c.name as "customerCode", c.fullname as "customerName", c.billing_id as "billingId", x.sku,
           trim_scale(sum(x.before))::text as before, trim_scale(sum(x.after))::text as after
    from (
      select customer_id, sku, quantity as before, 0::numeric as after from billing_preview_before
      where bill_period_id = ${periodId} and ended_at is null and is_billable
      union all
      select customer_id, sku, 0::numeric, quantity from bill_items
      where bill_period_id = ${periodId} and ended_at is null and is_billable
    ) x
    join customers c on c.id = x.customer_id
    group by x.customer_id, c.name, c.fullname, c.billing_id, x.sku
    having sum(x.before) <> sum(x.after)
    order by c.name, x.sku nulls first
  `.execute(tx);
  return r.rows;
}

/**
 * The transaction as a database whose `transaction()` opens a savepoint instead: what runBilling
 * does per period then stays inside the outer transaction, which the preview rolls back.
 */
function withSavepoints(tx: Tx): DB {
  let n = 0;
  const proxy: DB = new Proxy(tx, {
    get(target, prop) {
      if (prop === 'transaction') {
        return () => ({
          async execute<T>(fn: (t: Tx) => Promise<T>): Promise<T> {
            const name = sql.raw(`billing_preview_${++n}`);
            await sql`savepoint ${name}`.execute(target);
            try {
              const result = await fn(proxy as Tx);
              await sql`release savepoint ${name}`.execute(target);
              return result;
            } catch (e) {
              await sql`rollback to savepoint ${name}`.execute(target);
              throw e;
            }
          },
        });
      }
      // Kysely keeps its state in private fields: methods must run on the real object.
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as DB;
  return proxy;
}
