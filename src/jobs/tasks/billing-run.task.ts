import { DomainError } from '../../core/errors.js';
import { runBilling } from '../../billing/run/run-billing.js';
import { systemCaller } from '../../tenancy/caller.js';
import { flag, text } from '../parameters.js';
import type { TaskDefinition } from './task.js';

/**
 * "Billing Run": the daily billing job is a job like any other (issue 7 §1). It has no seed
 * log codes; BR01–BR04 follow the PSA tasks' pattern (start, per period, failure, end).
 */
export function billingRunTask(): TaskDefinition {
  return {
    id: 'billing-run',
    label: 'Billing Run',
    parameters: {
      BillingPeriod: { default: '', check: text, description: 'Blank = the open period and any closed one not yet finalized; or "Current", "Previous", YYYY-MM-DD' },
      Reprocess: { default: 'False', check: flag, description: 'True = rebuild a closed period again ("Reprocess Billing Records")' },
    },
    secretNames: [],
    async run(input) {
      const period = String(input.params.BillingPeriod ?? '').trim();
      const reprocess = input.params.Reprocess === true || String(input.params.Reprocess).toLowerCase() === 'true';
      input.log.write('BR01', 'Info', `Billing run started${period ? ` for billing period ${period}` : ''}${input.dryRun ? ' (dry run: nothing is written)' : ''}.`);
      if (input.dryRun) {
        input.log.write('BR04', 'Info', 'Billing run completed: a dry run of the billing run changes nothing.');
        return { aborted: false, changes: [], message: 'dry run' };
      }
      try {
        const results = await runBilling(input.app.db, systemCaller(input.app.provider, `job ${input.jobId}`), {
          ...(period ? { period } : {}),
          reprocess,
          kind: 'scheduled',
          now: input.now,
        });
        for (const r of results) {
          input.log.write('BR02', 'Info', `Billing period ${r.period.endDate}: ${r.items} items (${r.added} written, ${r.removed} replaced or gone) in ${r.ms} ms.`);
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
