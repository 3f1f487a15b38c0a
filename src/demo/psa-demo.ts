import { AutotaskSimulator, DEFAULT_AT_USER } from '../integrations/psa/autotask/simulator.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from '../integrations/psa/connectwise/simulator.js';
import type { JobInput } from '../jobs/job.service.js';

/**
 * The PSAs of `tenantry demo`: an Autotask and a ConnectWise simulator holding the three demo
 * customers (billing ids 29683490-2, see demo.ts) with contracts/agreements whose quantities
 * differ from what Tenantry bills, so a sync visibly changes them.
 */

/** Demo companies, keyed by the Billing Identifier of the demo customers. */
const COMPANIES = [
  {
    billingId: '29683490',
    name: 'Fabrikam Incorporated',
    lines: { 'HE-MBX-BASIC': 5, 'HE-MBX-FULL': 1, 'HE-ORG-BASIC': 1, 'FSS-FULL': 0 },
  },
  { billingId: '29683491', name: 'Adventure Works', lines: { 'HE-MBX-BASIC': 2, 'HE-ORG-STD': 1 } },
  { billingId: '29683492', name: 'Tailspin Toys', lines: { 'HAD-DESKTOP': 4 } },
] as const;

/** Catalog SKUs the demo services bill under (src/catalog/default-catalog.ts). */
const SKUS: Record<string, { name: string; price: number }> = {
  'HE-MBX-BASIC': { name: 'Hosted Exchange mailbox (Ex10 Basic)', price: 4 },
  'HE-MBX-FULL': { name: 'Hosted Exchange mailbox (Ex10 Full)', price: 8 },
  'HE-ORG-BASIC': { name: 'Hosted Exchange organisation (Basic)', price: 10 },
  'HE-ORG-STD': { name: 'Hosted Exchange organisation (Standard)', price: 15 },
  'FSS-FULL': { name: 'File sharing (Full)', price: 20 },
  'FSS-USER-FULL': { name: 'File sharing user (Full)', price: 3 },
  'FSS-USER-READ': { name: 'File sharing user (Read)', price: 1 },
  'HAD-DESKTOP': { name: 'Hosted desktop', price: 30 },
  'HAD-OFFICE': { name: 'Hosted Office apps', price: 12 },
};

export const DEMO_AGREEMENT_TYPE = 'Cloud and Hosting Services';

export interface PsaDemo {
  autotask: AutotaskSimulator;
  connectwise: ConnectWiseSimulator;
  /** Autotask contract id and ConnectWise agreement id per billing id. */
  contracts: Map<string, { autotask: number; connectwise: number }>;
  stop(): Promise<void>;
}

export async function startPsaDemo(today: Date = new Date()): Promise<PsaDemo> {
  const autotask = await AutotaskSimulator.start();
  const connectwise = await ConnectWiseSimulator.start();
  const year = today.getUTCFullYear();
  const at = autotask.state;
  const cw = connectwise.state;
  // Autotask maps a SKU to a Service by name here (SKUType "name"), ConnectWise by catalog identifier.
  const services = new Map(
    Object.entries(SKUS).map(([sku, s]) => [
      sku,
      at.addService({ name: sku, description: s.name, invoiceDescription: s.name, unitPrice: s.price }).id,
    ]),
  );
  for (const [sku, s] of Object.entries(SKUS)) cw.addCatalogItem({ identifier: sku, description: s.name, price: s.price });
  const contracts = new Map<string, { autotask: number; connectwise: number }>();
  for (const c of COMPANIES) {
    const company = at.addCompany({ companyName: c.name, companyNumber: c.billingId });
    const contract = at.addContract({
      companyID: company.id,
      contractName: `${c.name} Cloud Services`,
      contractType: 7,
      startDate: `${year - 1}-01-01`,
      endDate: `${year + 1}-12-31`,
      status: 1,
    });
    cw.addCompany({ identifier: c.billingId, name: c.name });
    const agreement = cw.addAgreement({ companyIdentifier: c.billingId, typeName: DEMO_AGREEMENT_TYPE, name: `${c.name} Cloud Services` });
    for (const [sku, units] of Object.entries(c.lines)) {
      const line = at.addContractService({ contractID: contract.id, serviceID: services.get(sku)! });
      if (units > 0)
        at.applyAdjustment({
          contractID: contract.id,
          serviceID: services.get(sku)!,
          contractServiceID: line.id,
          unitChange: units,
          effectiveDate: `${year - 1}-01-01`,
        });
      cw.addAddition(agreement.id, { product: { identifier: sku }, billCustomer: 'Billable', quantity: units });
    }
    contracts.set(c.billingId, { autotask: contract.id, connectwise: agreement.id });
  }
  return {
    autotask,
    connectwise,
    contracts,
    async stop() {
      await Promise.all([autotask.stop(), connectwise.stop()]);
    },
  };
}

/** Jobs that sync the demo customers into the simulators (created disabled: the simulators live only as long as their process). */
export function demoJobs(demo: PsaDemo): JobInput[] {
  return [
    {
      label: 'Demo: transfer billing data to Autotask (simulator)',
      task: 'autotask-psa',
      logLevel: 'Verbose',
      cron: '0 22 26 * *',
      enabled: false,
      parameters: {
        BaseUrl: demo.autotask.restRoot,
        BillingPeriod: 'Current',
        AllowAtriaCreateItems: 'True',
        SKUType: { name: 'name', type: 'string' },
      },
      secrets: { UserName: DEFAULT_AT_USER.userName, Secret: DEFAULT_AT_USER.secret, IntegrationCode: DEFAULT_AT_USER.integrationCode },
    },
    {
      label: 'Demo: transfer billing data to ConnectWise (simulator)',
      task: 'connectwise-psa',
      logLevel: 'Verbose',
      cron: '0 22 26 * *',
      enabled: false,
      parameters: {
        ApiUrl: demo.connectwise.apiUrl,
        AgreementType: DEMO_AGREEMENT_TYPE,
        AllowAtriaCreateAdditions: 'True',
        BillingPeriod: 'Current',
      },
      secrets: {
        CompanyName: DEFAULT_CW_CREDENTIALS.companyId,
        PublicKey: DEFAULT_CW_CREDENTIALS.publicKey,
        PrivateKey: DEFAULT_CW_CREDENTIALS.privateKey,
        ClientID: DEFAULT_CW_CREDENTIALS.clientId,
      },
    },
  ];
}

/** Quantities in both simulators, one row per company and SKU, for a before/after table. */
export function demoQuantities(
  demo: PsaDemo,
  today: Date = new Date(),
): { billingId: string; sku: string; autotask: number; connectwise: number }[] {
  const day = today.toISOString().slice(0, 10);
  const rows: { billingId: string; sku: string; autotask: number; connectwise: number }[] = [];
  const services = new Map(demo.autotask.state.all('Services').map((s) => [s.id, String(s.name)]));
  for (const [billingId, ids] of demo.contracts) {
    const skus = new Set<string>();
    for (const l of demo.autotask.state.all('ContractServices'))
      if (l.contractID === ids.autotask) skus.add(services.get(Number(l.serviceID))!);
    for (const a of demo.connectwise.state.additionsOf(ids.connectwise)) if (a.product.identifier) skus.add(a.product.identifier);
    for (const sku of [...skus].sort()) {
      const serviceId = [...services].find(([, name]) => name === sku)?.[0];
      rows.push({
        billingId,
        sku,
        autotask: serviceId === undefined ? 0 : demo.autotask.state.unitsFor(ids.autotask, serviceId, day),
        connectwise: demo.connectwise.state.quantityOf(ids.connectwise, sku) ?? 0,
      });
    }
  }
  return rows;
}
