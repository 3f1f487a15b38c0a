import type { Executor } from '../../../core/db/database.js';
import { DomainError } from '../../../core/errors.js';
import type { Caller } from '../../../tenancy/caller.js';
import { resolvePeriod } from '../../../billing/summary.js';
import { billedQuantities, managedSkus } from '../../../billing/billed-quantities.js';
import { InvalidBillingPeriod, type SyncLine, type SyncPeriod, type SyncQuantitySource } from './sync-source.js';

/**
 * The PSA syncs' quantities from the billing run's items: billable items only (seed 003: billing
 * rules filter out what should not reach the PSA), per customer every SKU billed at any time in
 * the period with its units at the period's end, and the SKUs Tenantry manages.
 */
export function billingSummarySource(db: Executor, caller: Caller): SyncQuantitySource {
  return {
    async resolvePeriod(selector, now) {
      try {
        const p = await resolvePeriod(db, selector, now);
        return { name: p.name, startDate: p.startDate, endDate: p.endDate };
      } catch (e) {
        // A date that names no period, or no closed period for "Previous": AT19 / CW19.
        if (e instanceof DomainError && (e.code === 'NotFound' || e.code === 'ValidationError')) throw new InvalidBillingPeriod(e.message);
        throw e;
      }
    },
    async lines(period: SyncPeriod, customerCodes, options) {
      const rows = await billedQuantities(db, caller, period.endDate, { perCustomer: options?.perCustomer === true });
      const wanted = customerCodes ? new Set(customerCodes.map((c) => c.toLowerCase())) : undefined;
      return rows
        .filter((r) => !wanted || wanted.has(r.customerCode.toLowerCase()))
        .map((r): SyncLine => ({
          customerId: r.customerId,
          customerCode: r.customerCode,
          customerName: r.customerName,
          billingId: r.billingId,
          sku: r.sku,
          lineDescription: r.lineDescription,
          quantity: r.quantity,
          deprovisioned: r.deprovisioned,
          psaContractId: r.psaContractId,
          psaAgreementId: r.psaAgreementId,
          ...(r.customerOnly ? { customerOnly: true } : {}),
          ...(r.billedForCode !== null ? { billedFor: { code: r.billedForCode, name: r.billedForName ?? r.billedForCode } } : {}),
        }));
    },
    managedSkus: (period) => managedSkus(db, period.endDate),
  };
}
