import { validation } from '../../core/errors.js';
import { AUTOTASK_DEFAULTS, AUTOTASK_SECRET_NAMES, SKU_TYPES, syncAutotask, type AutotaskSyncInput, type AutotaskSyncParameters } from '../../integrations/psa/autotask/sync.js';
import type { SyncQuantitySource } from '../../integrations/psa/shared/sync-source.js';
import type { AppContext } from '../../core/context.js';
import { billingPeriod, customerCodes, flag, text, url, type ParameterSpec } from '../parameters.js';
import type { TaskDefinition } from './task.js';

/** SKUType: `{"name":"ServiceId","type":"int"}` and friends (seed 003 "Setup Product Mapping"), or just the name. */
const skuType: ParameterSpec = (value, name) => {
  const given = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
  const match = typeof given === 'string' ? SKU_TYPES.find((t) => t.toLowerCase() === given.trim().toLowerCase()) : undefined;
  if (!match) throw validation(`Parameter ${name} must be {"name": one of ${SKU_TYPES.join(', ')}}.`, { field: name });
  return { name: match, type: match === 'ServiceId' ? 'int' : 'string' };
};

export interface AutotaskTaskDeps {
  source: (app: AppContext) => SyncQuantitySource;
  /** Transport settings (tests and the demo point zone discovery at a simulator). */
  client?: AutotaskSyncInput['client'];
}

/** "Autotask PSA" (seed 003). */
export function autotaskTask(deps: AutotaskTaskDeps): TaskDefinition {
  const d = AUTOTASK_DEFAULTS;
  return {
    id: 'autotask-psa',
    label: 'Autotask PSA',
    parameters: {
      BaseUrl: { default: d.BaseUrl, check: url, description: 'Autotask REST root; blank = discover the zone from ZoneUser' },
      ZoneUser: { default: d.ZoneUser, check: text, description: 'Email of an Autotask user, for zone discovery' },
      BillingPeriod: { default: d.BillingPeriod, check: billingPeriod, description: '"Previous", "Current" or YYYY-MM-DD' },
      CustomersFilter: { default: d.CustomersFilter, check: customerCodes, description: 'Customer codes to process; blank = all' },
      ProRatedTransactions: { default: d.ProRatedTransactions, check: flag, description: 'True = changes take effect now; False = at the period start' },
      AllowAtriaCreateItems: { default: d.AllowAtriaCreateItems, check: flag, description: 'True = create missing contract lines' },
      SKUType: { default: d.SKUType, check: skuType, description: 'Service field the SKU holds: ServiceId, name, InvoiceDescription or description' },
    },
    secretNames: AUTOTASK_SECRET_NAMES,
    async run(input) {
      const result = await syncAutotask({
        params: input.params as unknown as AutotaskSyncParameters,
        secrets: input.secrets,
        source: deps.source(input.app),
        log: input.log,
        dryRun: input.dryRun,
        now: input.now,
        taskTypeId: 'autotask-psa',
        ...(deps.client ? { client: deps.client } : {}),
      });
      return {
        aborted: result.aborted,
        changes: result.changes,
        message: `${result.customers} customers, ${result.changes.length} lines ${input.dryRun ? 'would change' : 'changed'}, ${result.apiCalls} Autotask API calls`,
      };
    },
  };
}
