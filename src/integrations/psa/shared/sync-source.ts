/**
 * What a PSA sync reads from Tenantry: a bill period and, per customer and SKU, the quantity
 * to push (the billing summary's currentPeriod). Kept as a small interface so the syncs can be
 * tested with quantities fed directly and the billing summary plugs in through an adapter.
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
}

/** The BillingPeriod parameter does not name a bill period (AT19 / CW19). */
export class InvalidBillingPeriod extends Error {
  override name = 'InvalidBillingPeriod';
}

export interface SyncQuantitySource {
  /** Resolves "Previous", "Current" or "YYYY-MM-DD"; throws InvalidBillingPeriod when it names no period. */
  resolvePeriod(selector: string, now: Date): Promise<SyncPeriod>;
  /** Billable lines of the period, restricted to `customerCodes` when given. Throws when Tenantry's data cannot be read (AT03 / CW03). */
  lines(period: SyncPeriod, customerCodes: readonly string[] | null): Promise<SyncLine[]>;
}
