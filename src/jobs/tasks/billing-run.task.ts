import { DomainError } from '../../core/errors.js';
import { runBilling } from '../../billing/run/run-billing.js';
import { previewBilling, type PeriodPreview } from '../../billing/run/preview-billing.js';
import { parseFlag, type SyncChange, type SyncLogSink } from '../../integrations/psa/shared/sync-model.js';
import { systemCaller } from '../../tenancy/caller.js';
import { flag, text } from '../parameters.js';
import type { TaskDefinition, TaskOutcome } from './task.js';

/**
 * "Billing Run": the daily billing job is a job like any other (issue 7 §1). It has no seed
 * log codes; BR01–BR05 follow the PSA tasks' pattern (start, per period, failure, end, and on a
 * dry run each quantity that would change).
 */
export function billingRunTask(): TaskDefinition {
  return {
    id: 'billing-run',
    label: 'Billing Run',
    parameters: {
      BillingPeriod: {
        default: '',
        check: text,
        description: 'Blank = the open period and any closed one not yet finalized; or "Current", "Previous", YYYY-MM-DD',
      },
      Reprocess: { default: 'False', check: flag, description: 'True = rebuild a closed period again ("Reprocess Billing Records")' },
    },
    secretNames: [],
    async run(input) {
      const period = String(input.params.BillingPeriod ?? '').trim();
      const reprocess = parseFlag(input.params.Reprocess);
      const caller = systemCaller(input.app.provider, `job ${input.jobId}`);
      const opts = { ...(period ? { period } : {}), reprocess, kind: 'scheduled' as const, now: input.now };
      input.log.write(
        'BR01',
        'Info',
        `Billing run started${period ? ` for billing period ${period}` : ''}${input.dryRun ? ' (dry run: nothing is written)' : ''}.`,
      );
      try {
        if (input.dryRun) return dryRun(input.log, await previewBilling(input.app.db, caller, opts));
        const results = await runBilling(input.app.db, caller, opts);
        for (const r of results) {
          input.log.write(
            'BR02',
            'Info',
            `Billing period ${r.period.endDate}: ${r.items} items (${r.added} written, ${r.removed} replaced or gone) in ${r.ms} ms.`,
          );
        }
        input.log.write('BR04', 'Info', `Billing run completed for ${results.length} period(s).`);
        return { aborted: false, changes: [], message: `${results.length} period(s) rebuilt` };
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        input.log.write('BR03', 'Error', `Billing run failed: ${e.message}`);
        return { aborted: true, changes: [], message: e.message };
      }
    },
  };
}

/**
 * A dry run (issue 7 §7): the run computed in a rolled-back transaction, reported per period
 * (BR02: items added, changed, removed) and per customer and SKU whose billable units at the
 * period's end would change (BR05, and the run's diff).
 */
function dryRun(log: SyncLogSink, previews: PeriodPreview[]): TaskOutcome {
  const changes: SyncChange[] = [];
  const total = { added: 0, changed: 0, removed: 0 };
  for (const p of previews) {
    const end = p.period.endDate;
    total.added += p.added;
    total.changed += p.changed;
    total.removed += p.removed;
    log.write(
      'BR02',
      'Info',
      `Billing period ${end}: ${p.items} items; the run would add ${p.added}, change ${p.changed} and remove ${p.removed} items, and change ${p.quantities.length} customer quantities.`,
    );
    for (const q of p.quantities) {
      log.write(
        'BR05',
        'Info',
        `${q.customerCode} SKU ${q.sku ?? '(none)'}: billable quantity at the end of billing period ${end} would change from ${q.before} to ${q.after}.`,
      );
      changes.push({
        customerCode: q.customerCode,
        customerName: q.customerName,
        billingId: q.billingId ?? '',
        sku: q.sku ?? '',
        line: `billing period ${end}`,
        action: isZero(q.before) ? 'create' : isZero(q.after) ? 'zero' : 'update',
        // For display only; the quantities themselves stay exact decimal strings in the log.
        from: Number(q.before),
        to: Number(q.after),
      });
    }
  }
  log.write('BR04', 'Info', `Billing run completed for ${previews.length} period(s) (dry run: nothing was written).`);
  return {
    aborted: false,
    changes,
    message: `dry run: ${previews.length} period(s); ${total.added} items would be added, ${total.changed} changed, ${total.removed} removed; ${changes.length} customer quantities would change`,
  };
}

const isZero = (quantity: string): boolean => /^0(\.0*)?$/.test(quantity);
