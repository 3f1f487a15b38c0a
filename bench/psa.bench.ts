import { AutotaskSimulator, DEFAULT_AT_USER } from '../src/integrations/psa/autotask/simulator.js';
import { AUTOTASK_DEFAULTS, syncAutotask } from '../src/integrations/psa/autotask/sync.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from '../src/integrations/psa/connectwise/simulator.js';
import { CONNECTWISE_DEFAULTS, syncConnectWise } from '../src/integrations/psa/connectwise/sync.js';
import type { SyncResult } from '../src/integrations/psa/shared/sync-model.js';
import { MemoryLog, monthOf, StaticQuantitySource } from '../src/integrations/psa/shared/sync-testing.js';
import type { SyncLine } from '../src/integrations/psa/shared/sync-source.js';
import type { Bench } from './run.js';
import { bySize } from './size.js';

const CUSTOMERS = bySize({ quick: 100, default: 1_000 });
const SKUS = ['SKU-A', 'SKU-B', 'SKU-C', 'SKU-D', 'SKU-E'];

/** Quantities Tenantry bills: every fifth line differs from what the PSA holds (PSA: 10 + i % 7). */
function billed(): SyncLine[] {
  const lines: SyncLine[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    SKUS.forEach((sku, s) => {
      const held = 10 + ((c + s) % 7);
      lines.push({
        customerId: c + 1,
        customerCode: `C${c}`,
        customerName: `Customer ${c}`,
        billingId: `CO${c}`,
        sku,
        lineDescription: `${sku} line`,
        quantity: String((c * SKUS.length + s) % 5 === 0 ? held + 1 : held),
        deprovisioned: false,
      });
    });
  }
  return lines;
}

function report(name: string, ms: number, r: SyncResult, byOperation: Record<string, number>): void {
  const lines = CUSTOMERS * SKUS.length;
  console.log(
    `${name}: ${Math.round(ms)} ms, ${r.changes.length} of ${lines} lines changed, ${r.apiCalls} API calls (${(r.apiCalls / CUSTOMERS).toFixed(2)} per customer)`,
  );
  console.log(
    `  calls by operation: ${Object.entries(byOperation)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
}

/** Sync of 1,000 customers × 5 SKUs against each simulator: wall time and PSA API calls (issue 7 §10). */
export const psaBench: Bench = {
  name: 'psa',
  async run() {
    const period = monthOf(new Date());
    const source = new StaticQuantitySource(billed(), period);
    const end = new Date(`${period.endDate}T00:00:00Z`);
    end.setUTCMonth(end.getUTCMonth() + 1);

    const at = await AutotaskSimulator.start({ hourlyLimit: 1_000_000 });
    try {
      const services = SKUS.map((sku) => at.state.addService({ name: sku, unitPrice: 1 }).id);
      for (let c = 0; c < CUSTOMERS; c++) {
        const company = at.state.addCompany({ companyName: `Customer ${c}`, companyNumber: `CO${c}` });
        const contract = at.state.addContract({
          companyID: company.id,
          contractName: `C${c}`,
          contractType: 7,
          startDate: period.startDate,
          endDate: end.toISOString().slice(0, 10),
        });
        services.forEach((serviceID, s) =>
          at.state.applyAdjustment({ contractID: contract.id, serviceID, unitChange: 10 + ((c + s) % 7), effectiveDate: period.startDate }),
        );
      }
      for (const pass of ['first run', 'second run (unchanged)']) {
        const started = performance.now();
        const result = await syncAutotask({
          params: { ...AUTOTASK_DEFAULTS, BaseUrl: at.restRoot, SKUType: { name: 'name' } },
          secrets: () => ({
            UserName: DEFAULT_AT_USER.userName,
            Secret: DEFAULT_AT_USER.secret,
            IntegrationCode: DEFAULT_AT_USER.integrationCode,
          }),
          source,
          log: new MemoryLog(),
          dryRun: false,
          taskTypeId: 'bench',
        });
        report(`autotask ${pass}`, performance.now() - started, result, countByPath(at.requests.splice(0)));
      }
    } finally {
      await at.stop();
    }

    const cw = await ConnectWiseSimulator.start();
    try {
      for (const sku of SKUS) cw.state.addCatalogItem({ identifier: sku, description: sku, price: 1 });
      for (let c = 0; c < CUSTOMERS; c++) {
        cw.state.addCompany({ identifier: `CO${c}`, name: `Customer ${c}` });
        const agreement = cw.state.addAgreement({
          companyIdentifier: `CO${c}`,
          typeName: CONNECTWISE_DEFAULTS.AgreementType,
          name: `C${c}`,
        });
        SKUS.forEach((sku, s) =>
          cw.state.addAddition(agreement.id, { product: { identifier: sku }, billCustomer: 'Billable', quantity: 10 + ((c + s) % 7) }),
        );
      }
      for (const pass of ['first run', 'second run (unchanged)']) {
        const started = performance.now();
        const result = await syncConnectWise({
          params: { ...CONNECTWISE_DEFAULTS, ApiUrl: cw.apiUrl },
          secrets: () => ({
            CompanyName: DEFAULT_CW_CREDENTIALS.companyId,
            PublicKey: DEFAULT_CW_CREDENTIALS.publicKey,
            PrivateKey: DEFAULT_CW_CREDENTIALS.privateKey,
            ClientID: DEFAULT_CW_CREDENTIALS.clientId,
          }),
          source,
          log: new MemoryLog(),
          dryRun: false,
        });
        report(`connectwise ${pass}`, performance.now() - started, result, countByPath(cw.requests.splice(0)));
      }
    } finally {
      await cw.stop();
    }
  },
};

/** Requests per method and path shape (ids replaced), as the simulator received them. */
function countByPath(requests: { method: string; path: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const key = `${r.method} ${r.path.replace(/\/\d+(?=\/|$)/g, '/{id}').replace(/^.*\/(v1\.0|apis\/3\.0)\//i, '')}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
