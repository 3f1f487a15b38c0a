import { CONNECTWISE_DEFAULTS, CONNECTWISE_SECRET_NAMES, syncConnectWise, type ConnectWiseSyncInput, type ConnectWiseSyncParameters } from '../../integrations/psa/connectwise/sync.js';
import type { SyncQuantitySource } from '../../integrations/psa/shared/sync-source.js';
import type { AppContext } from '../../core/context.js';
import { billingPeriod, customerCodes, flag, text, url } from '../parameters.js';
import type { TaskDefinition } from './task.js';

export interface ConnectWiseTaskDeps {
  source: (app: AppContext) => SyncQuantitySource;
  client?: ConnectWiseSyncInput['client'];
}

/** "ConnectWise Manage Billing" (seed 004). */
export function connectWiseTask(deps: ConnectWiseTaskDeps): TaskDefinition {
  const d = CONNECTWISE_DEFAULTS;
  return {
    id: 'connectwise-psa',
    label: 'ConnectWise Manage Billing',
    parameters: {
      ApiUrl: { default: d.ApiUrl, check: url, description: 'ConnectWise API URL, e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0' },
      AgreementType: { default: d.AgreementType, check: text, description: 'Agreement type holding the Atria services' },
      AllowAtriaCreateAdditions: { default: d.AllowAtriaCreateAdditions, check: flag, description: 'True = create missing additions' },
      BillingPeriod: { default: d.BillingPeriod, check: billingPeriod, description: '"Previous", "Current" or YYYY-MM-DD' },
      CustomersFilter: { default: d.CustomersFilter, check: customerCodes, description: 'Customer codes to process; blank = all' },
    },
    secretNames: CONNECTWISE_SECRET_NAMES,
    async run(input) {
      const result = await syncConnectWise({
        params: input.params as unknown as ConnectWiseSyncParameters,
        secrets: input.secrets,
        source: deps.source(input.app),
        log: input.log,
        dryRun: input.dryRun,
        now: input.now,
        ...(deps.client ? { client: deps.client } : {}),
      });
      return {
        aborted: result.aborted,
        changes: result.changes,
        message: `${result.customers} customers, ${result.changes.length} lines ${input.dryRun ? 'would change' : 'changed'}, ${result.apiCalls} ConnectWise API calls`,
      };
    },
  };
}
