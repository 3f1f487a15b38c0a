/**
 * What a PSA sync reads from Tenantry: a bill period, the customers of the run and, per customer,
 * every SKU billed at any time in the period with its quantity at the period's end ("0" when it
 * ended), plus the SKUs Tenantry manages. The sync reconciles: every PSA line of a managed SKU is
 * set to Tenantry's quantity, 0 when Tenantry has none (issue 11 §1). Kept as a small interface so
 * the syncs can be tested with quantities fed directly and the billing reads plug in through an adapter.
 */

/** A bill period; dates are `YYYY-MM-DD`, both inclusive. */
export interface SyncPeriod {
  name: string;
  startDate: string;
  endDate: string;
}

/** One billing summary line to push. */
export interface SyncLine {
  customerId: number;
  /** Atria customer code (short name), matched by the CustomersFilter parameter. */
  customerCode: string;
  customerName: string;
  /** The customer's Billing Identifier: the PSA company (seed 003 / 004 "Setup Customer Mapping"). */
  billingId: string | null;
  sku: string | null;
  lineDescription: string;
  /** Units at the end of the period, a decimal string. */
  quantity: string;
  /** The customer is de-provisioned (deleted): its lines are reduced to zero (seed 003 AT20/AT21). */
  deprovisioned: boolean;
  /** The customer's explicit Autotask contract / ConnectWise agreement (additional properties PsaContractId / PsaAgreementId). */
  psaContractId?: string | null;
  psaAgreementId?: string | null;
  /** Only puts the customer in the run (it had items in the period, none billable with a SKU): no line of its own. */
  customerOnly?: boolean;
  /** Per-customer reseller lines (issue 11 §5): the customer billed to this one whose units the line holds. */
  billedFor?: BilledFor | null;
}

/** The customer a per-customer reseller line is for: its code (short name) and full name. */
export interface BilledFor {
  code: string;
  name: string;
}

export interface SyncLineOptions {
  /** Job parameter ResellerLinesPerCustomer: a reseller's customers' lines stay apart, one per customer and SKU. */
  perCustomer: boolean;
}

/** The BillingPeriod parameter does not name a bill period (AT19 / CW19). */
export class InvalidBillingPeriod extends Error {
  override name = 'InvalidBillingPeriod';
}

export interface SyncQuantitySource {
  /** Resolves "Previous", "Current" or "YYYY-MM-DD"; throws InvalidBillingPeriod when it names no period. */
  resolvePeriod(selector: string, now: Date): Promise<SyncPeriod>;
  /**
   * Billable lines of the period, restricted to `customerCodes` when given: one per SKU billed at any
   * time in the period (quantity at its end, "0" when none is left), lines without a SKU (AT07 / CW05),
   * and a `customerOnly` line for a customer in the run with neither. Throws when Tenantry's data
   * cannot be read (AT03 / CW03).
   */
  lines(period: SyncPeriod, customerCodes: readonly string[] | null, options?: SyncLineOptions): Promise<SyncLine[]>;
  /** Every SKU Tenantry manages (catalog, billing rules, the period's items): PSA lines of other SKUs are never touched. */
  managedSkus(period: SyncPeriod): Promise<string[]>;
}
