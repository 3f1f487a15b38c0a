import type { Executor } from '../../../core/db/database.js';
import { DomainError } from '../../../core/errors.js';
import type { Caller } from '../../../tenancy/caller.js';
import { billingSummary, resolvePeriod } from '../../../billing/summary.js';
import { InvalidBillingPeriod, type SyncLine, type SyncPeriod, type SyncQuantitySource } from './sync-source.js';

/**
 * The PSA syncs' quantities from the billing summary: billable items only (seed 003: billing
 * rules filter out what should not reach the PSA), currentPeriod per customer and SKU.
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
    async lines(period: SyncPeriod, customerCodes) {
      const summary = await billingSummary(db, caller, { endDate: period.endDate, billable: true });
      const wanted = customerCodes ? new Set(customerCodes.map((c) => c.toLowerCase())) : undefined;
      return summary.items
        .filter((i) => !wanted || wanted.has(i.customerCode.toLowerCase()))
        .map(
          (i): SyncLine => ({
            customerId: i.customerId,
            customerCode: i.customerCode,
            customerName: i.customerName,
            billingId: i.billingId,
            sku: i.sku,
            lineDescription: i.lineDescription,
            quantity: i.currentPeriod,
            deprovisioned: i.deprovisioned,
          }),
        );
    },
  };
}
