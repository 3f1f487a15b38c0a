import { validation } from '../../core/errors.js';
import {
  AUTOTASK_DEFAULTS,
  AUTOTASK_SECRET_NAMES,
  SKU_TYPES,
  syncAutotask,
  type AutotaskSyncInput,
  type AutotaskSyncParameters,
} from '../../integrations/psa/autotask/sync.js';
import type { SyncQuantitySource } from '../../integrations/psa/shared/sync-source.js';
import type { AppContext } from '../../core/context.js';
import { billingPeriod, customerCodes, flag, text, url, type ParameterSpec } from '../parameters.js';
import type { TaskDefinition } from './task.js';
import { runPsaTask } from './psa-approval.js';
import { parseFlag } from '../../integrations/psa/shared/sync-model.js';

/** SKUType: `{"name":"ServiceId","type":"int"}` and friends (seed 003 "Setup Product Mapping"), or just the name. */
const skuType: ParameterSpec = (value, name) => {
  const given =
    typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
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
      RequireApproval: {
        default: d.RequireApproval,
        check: flag,
        description: 'True = a run stores the diff and waits for approval (tenantry jobs approve RUN) before writing',
      },
      ResellerLinesPerCustomer: {
        default: d.ResellerLinesPerCustomer,
        check: flag,
        description:
          "True = a reseller's customers each get their own contract line per SKU (description names the customer); False = one line per SKU summed",
      },
      ProRatedTransactions: {
        default: d.ProRatedTransactions,
        check: flag,
        description: 'True = changes take effect now; False = at the period start',
      },
      AllowAtriaCreateItems: { default: d.AllowAtriaCreateItems, check: flag, description: 'True = create missing contract lines' },
      SKUType: {
        default: d.SKUType,
        check: skuType,
        description: 'Service field the SKU holds: ServiceId, name, InvoiceDescription or description',
      },
    },
    secretNames: AUTOTASK_SECRET_NAMES,
    async run(input) {
      const params = input.params as unknown as AutotaskSyncParameters;
      return runPsaTask(
        input,
        parseFlag(params.RequireApproval),
        (pass) =>
          syncAutotask({
            params,
            secrets: input.secrets,
            source: deps.source(input.app),
            log: pass.log,
            dryRun: pass.dryRun,
            ...(pass.approved ? { approved: pass.approved } : {}),
            now: input.now,
            taskTypeId: 'autotask-psa',
            ...(deps.client ? { client: deps.client } : {}),
          }),
        (r, verb) => `${r.customers} customers, ${r.changes.length} lines ${verb}, ${r.apiCalls} Autotask API calls`,
      );
    },
  };
}
