/*
 * What a PSA sync reconciles against (issue 11 §1). The billing summary keeps only rows with units
 * at the previous or the current period's end; a service added and removed inside one period has
 * neither, yet a daily sync may have pushed it. These reads say explicitly "every SKU billed at any
 * time in the period" and "every SKU Tenantry manages", so the sync can bring such lines back to 0.
 * Quantities are exact decimal strings; nothing here sums in JavaScript.
 */
import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { customerInScopeSql, type Caller } from '../tenancy/caller.js';
import { getPeriodByEndDate } from './summary.js';

export interface BilledQuantity {
  customerId: number;
  customerCode: string;
  customerName: string;
  billingId: string | null;
  /** The customer is deleted or de-provisioned: every line it has goes to zero (seed 003 AT20/AT21). */
  deprovisioned: boolean;
  /** null: billable lines without a SKU (one row per summary grouping, for AT07 / CW05); absent with `customerOnly`. */
  sku: string | null;
  lineDescription: string;
  /** Billable units active at the period's end, "0" when the SKU was billed earlier in the period only. */
  quantity: string;
  /** The customer had items in the period but no billable line: the row only puts it in the run. */
  customerOnly: boolean;
  /** The customer's additional properties PsaContractId / PsaAgreementId (explicit PSA contract choice), null when unset. */
  psaContractId: string | null;
  psaAgreementId: string | null;
  /** With `perCustomer`: the customer billed to this account whose items the line holds; null for the account's own items. */
  billedForCode: string | null;
  billedForName: string | null;
}

export interface BilledQuantityOptions {
  /**
   * Issue 11 §5, job parameter ResellerLinesPerCustomer: the lines of a customer billed to its
   * reseller stay apart (one per customer and SKU) instead of summing into the reseller's line.
   */
  perCustomer?: boolean;
}

/**
 * Per PSA account of the period: every customer in the caller's subtree with an item in the period,
 * and every customer those items are billed to (docs/decisions.md "Bill-to chain": a customer billed
 * by its parent is billed to its reseller). An account's lines sum the billable items billed to it,
 * its own and those of the customers it bills (issue 11 §5): one row per SKU with any such item in
 * the period (units at the period's end), one per summary grouping without a SKU that has units at
 * either end of the period (as the summary reports it), and a `customerOnly` row for an account with
 * neither that has a Billing Identifier (a customer now billed through its reseller: its own PSA lines go to 0).
 * With `perCustomer`, SKU lines of the customers an account bills are kept per customer (`billedFor*`).
 */
export async function billedQuantities(
  db: Executor,
  caller: Caller,
  endDate: string,
  options: BilledQuantityOptions = {},
): Promise<BilledQuantity[]> {
  const perCustomer = options.perCustomer === true;
  const period = await getPeriodByEndDate(db, endDate);
  const rows = await sql<BilledQuantity>`
    with scoped as (
      select i.customer_id, i.bill_customer_id, i.is_billable, nullif(trim(i.sku), '') as sku, i.summary_grouping, i.quantity, i.started_at, i.ended_at
      from bill_items i join customers c on c.id = i.customer_id
      where i.bill_period_id = ${period.id} and ${customerInScopeSql(caller)}
    ),
    items as (
      select *, case when ${perCustomer} and customer_id <> bill_customer_id then customer_id end as billed_for
      from scoped where is_billable
    ),
    lines as (
      select bill_customer_id as account_id, sku, billed_for, min(summary_grouping) as line, trim_scale(coalesce(sum(quantity) filter (where ended_at is null), 0))::text as quantity
      from items where sku is not null group by bill_customer_id, sku, billed_for
      union all
      select bill_customer_id, null, null, summary_grouping, trim_scale(coalesce(sum(quantity) filter (where ended_at is null), 0))::text
      from items where sku is null group by bill_customer_id, summary_grouping
      having coalesce(sum(quantity) filter (where started_at < ${period.startsAt}), 0) <> 0 or coalesce(sum(quantity) filter (where ended_at is null), 0) <> 0
    ),
    in_run as (select customer_id as account_id from scoped union select bill_customer_id from scoped)
    select c.id as "customerId", c.name as "customerCode", c.fullname as "customerName", c.billing_id as "billingId",
           (c.deleted_at is not null or c.status = 'NotProvisioned') as deprovisioned,
           (select value from jsonb_each_text(c.properties) where lower(key) = 'psacontractid' limit 1) as "psaContractId",
           (select value from jsonb_each_text(c.properties) where lower(key) = 'psaagreementid' limit 1) as "psaAgreementId",
           l.sku, coalesce(l.line, '') as "lineDescription", coalesce(l.quantity, '0') as quantity, l.account_id is null as "customerOnly",
           f.name as "billedForCode", f.fullname as "billedForName"
    from in_run r join customers c on c.id = r.account_id
    left join lines l on l.account_id = r.account_id
    left join customers f on f.id = l.billed_for
    -- An account with nothing billed to it matters only when it has a PSA company whose lines may need zeroing.
    where l.account_id is not null or nullif(trim(c.billing_id), '') is not null
    order by c.name, c.id, l.sku nulls last, f.name nulls first, l.line`.execute(db);
  return rows.rows;
}

/**
 * Every SKU Tenantry manages: the catalog's service and plan SKUs, SKUs billing rules assign, and
 * SKUs of the period's items (a plan's SKU changed since). Trimmed, distinct, any order.
 */
export async function managedSkus(db: Executor, endDate: string): Promise<string[]> {
  const period = await getPeriodByEndDate(db, endDate);
  const rows = await sql<{ sku: string }>`
    select distinct trim(s) as sku from (
      select sku from services union all select user_sku from services
      union all select sku from customer_plans union all select sku from user_plans
      union all select override_sku from billing_rules where effect = 'override_sku'
      union all select distinct sku from bill_items where bill_period_id = ${period.id}
    ) x(s)
    where nullif(trim(s), '') is not null`.execute(db);
  return rows.rows.map((r) => r.sku);
}
