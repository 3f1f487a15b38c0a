import {
  CONNECTWISE_DEFAULTS,
  CONNECTWISE_SECRET_NAMES,
  syncConnectWise,
  type ConnectWiseSyncInput,
  type ConnectWiseSyncParameters,
} from '../../integrations/psa/connectwise/sync.js';
import type { SyncQuantitySource } from '../../integrations/psa/shared/sync-source.js';
import type { AppContext } from '../../core/context.js';
import { billingPeriod, customerCodes, flag, text, url } from '../parameters.js';
import type { TaskDefinition } from './task.js';
import { runPsaTask } from './psa-approval.js';
import { parseFlag } from '../../integrations/psa/shared/sync-model.js';

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
      ApiUrl: {
        default: d.ApiUrl,
        check: url,
        description: 'ConnectWise API URL, e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0',
      },
      AgreementType: { default: d.AgreementType, check: text, description: 'Agreement type holding the Atria services' },
      AllowAtriaCreateAdditions: { default: d.AllowAtriaCreateAdditions, check: flag, description: 'True = create missing additions' },
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
          "True = a reseller's customers each get their own agreement addition per SKU (description names the customer); False = one line per SKU summed",
      },
    },
    secretNames: CONNECTWISE_SECRET_NAMES,
    async run(input) {
      const params = input.params as unknown as ConnectWiseSyncParameters;
      return runPsaTask(
        input,
        parseFlag(params.RequireApproval),
        (pass) =>
          syncConnectWise({
            params,
            secrets: input.secrets,
            source: deps.source(input.app),
            log: pass.log,
            dryRun: pass.dryRun,
            ...(pass.approved ? { approved: pass.approved } : {}),
            now: input.now,
            ...(deps.client ? { client: deps.client } : {}),
          }),
        (r, verb) => `${r.customers} customers, ${r.changes.length} lines ${verb}, ${r.apiCalls} ConnectWise API calls`,
      );
    },
  };
}
