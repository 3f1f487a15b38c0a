import Fastify, { type FastifyInstance } from 'fastify';
import { jobsConsoleRoutes } from '../../src/api/console/jobs.routes.js';
import { FairUse, fairUseLimitsOf } from '../../src/api/fair-use.js';
import type { AppContext } from '../../src/core/context.js';
import type { DB } from '../../src/core/db/database.js';
import type { Caller } from '../../src/tenancy/caller.js';
import type { ServiceChange } from '../../src/billing/ledger/record-change.js';
import { getService } from '../../src/catalog/catalog.service.js';
import type { PsaDemo } from '../../src/demo/psa-demo.js';
import { AutotaskSimulator, DEFAULT_AT_USER } from '../../src/integrations/psa/autotask/simulator.js';
import { AUTOTASK_DEFAULTS, syncAutotask, type AutotaskSyncParameters } from '../../src/integrations/psa/autotask/sync.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from '../../src/integrations/psa/connectwise/simulator.js';
import { CONNECTWISE_DEFAULTS, syncConnectWise, type ConnectWiseSyncParameters } from '../../src/integrations/psa/connectwise/sync.js';
import { billingSummarySource } from '../../src/integrations/psa/shared/billing-source.js';
import type { SyncResult } from '../../src/integrations/psa/shared/sync-model.js';
import { MemoryLog } from '../../src/integrations/psa/shared/sync-testing.js';
import { makeTenant, type Tenant } from './fixtures.js';

/** SKUs the simulated PSAs know; Autotask maps them by service name (SKUType "name"), ConnectWise by catalog identifier. */
export const PSA_SKUS = ['HE-MBX-BASIC', 'HE-MBX-FULL', 'HE-ORG-BASIC', 'HE-ORG-STD', 'FSS-FULL', 'NOT-IN-TENANTRY'];

export interface SyncRun {
  log: MemoryLog;
  result: SyncResult;
}

/**
 * One PSA behind a simulator, driven by the real sync over HTTP with Tenantry's billing reads:
 * the same scenario runs against Autotask and ConnectWise.
 */
export interface PsaUnderTest {
  name: 'autotask' | 'connectwise';
  /** The code a zeroed line logs (AT13 / CW20) and an unchanged one (AT10 / CW09). */
  zeroCode: string;
  unchangedCode: string;
  /** A company with a contract/agreement holding these lines (units by SKU). Returns the contract/agreement id. */
  addCompany(billingId: string, name: string, lines: Record<string, number>, contracts?: number): number[];
  /** Units of the SKU's line on the company's (first) contract/agreement; undefined when there is no line. */
  quantity(billingId: string, sku: string, contract?: number): number | undefined;
  /** Every line of the SKU on the company's first contract/agreement, in creation order: its description and units. */
  lines(billingId: string, sku: string): { description: string; quantity: number }[];
  /** Runs the sync for the period ending `endDate` with Tenantry's billing data. */
  sync(endDate: string, params?: Record<string, unknown>): Promise<SyncRun>;
  /** Write requests the PSA has received so far. */
  writes(): number;
  stop(): Promise<void>;
}

const ON = (endDate: string) => `${endDate}T00:00:00`;

export async function startAutotask(db: DB, caller: Caller): Promise<PsaUnderTest> {
  const sim = await AutotaskSimulator.start();
  const services = new Map(
    PSA_SKUS.map((sku) => [
      sku,
      sim.state.addService({ name: sku, description: `${sku} service`, invoiceDescription: sku, unitPrice: 1 }).id,
    ]),
  );
  const contracts = new Map<string, number[]>();
  // Units are read on the last day of the period last synced (ProRatedTransactions False dates changes at its start).
  let lastSync = '2024-01-31';
  return {
    name: 'autotask',
    zeroCode: 'AT13',
    unchangedCode: 'AT10',
    addCompany(billingId, name, lines, count = 1) {
      const company = sim.state.addCompany({ companyName: name, companyNumber: billingId });
      const ids: number[] = [];
      for (let n = 0; n < count; n++) {
        const contract = sim.state.addContract({
          companyID: company.id,
          contractName: `${name} ${n + 1}`,
          contractType: 7,
          startDate: `2024-0${n + 1}-01`,
          endDate: '2030-12-31',
          status: 1,
        });
        for (const [sku, units] of Object.entries(lines)) {
          const line = sim.state.addContractService({ contractID: contract.id, serviceID: services.get(sku)! });
          if (units > 0)
            sim.state.applyAdjustment({
              contractID: contract.id,
              serviceID: services.get(sku)!,
              contractServiceID: line.id,
              unitChange: units,
              effectiveDate: '2024-01-01',
            });
        }
        ids.push(contract.id);
      }
      contracts.set(billingId, ids);
      return ids;
    },
    quantity(billingId, sku, contract) {
      const id = contract ?? contracts.get(billingId)![0]!;
      if (!sim.state.findContractService(id, services.get(sku)!)) return undefined;
      return sim.state.unitsFor(id, services.get(sku)!, ON(lastSync));
    },
    lines(billingId, sku) {
      const id = contracts.get(billingId)![0]!;
      return sim.state
        .all('ContractServices')
        .filter((l) => l.contractID === id && l.serviceID === services.get(sku))
        .map((l) => ({ description: String(l.invoiceDescription ?? ''), quantity: sim.state.unitsOn(l.id, ON(lastSync)) }));
    },
    async sync(endDate, params = {}) {
      lastSync = endDate;
      const log = new MemoryLog();
      const result = await syncAutotask({
        params: {
          ...AUTOTASK_DEFAULTS,
          BaseUrl: sim.restRoot,
          BillingPeriod: endDate,
          SKUType: { name: 'name' },
          ...params,
        } as AutotaskSyncParameters,
        secrets: () => ({
          UserName: DEFAULT_AT_USER.userName,
          Secret: DEFAULT_AT_USER.secret,
          IntegrationCode: DEFAULT_AT_USER.integrationCode,
        }),
        source: billingSummarySource(db, caller),
        log,
        dryRun: false,
        now: new Date(`${endDate}T12:00:00Z`),
        taskTypeId: 'autotask-psa',
        client: { retry: { maxAttempts: 2 }, sleep: async () => {} },
      });
      return { log, result };
    },
    writes: () => sim.state.adjustments().length,
    stop: () => sim.stop(),
  };
}
export async function startConnectWise(db: DB, caller: Caller): Promise<PsaUnderTest> {
  const sim = await ConnectWiseSimulator.start();
  for (const sku of PSA_SKUS) sim.state.addCatalogItem({ identifier: sku, description: `${sku} product`, price: 1 });
  const agreements = new Map<string, number[]>();
  let writes = 0;
  return {
    name: 'connectwise',
    zeroCode: 'CW20',
    unchangedCode: 'CW09',
    addCompany(billingId, name, lines, count = 1) {
      sim.state.addCompany({ identifier: billingId, name });
      const ids: number[] = [];
      for (let n = 0; n < count; n++) {
        const agreement = sim.state.addAgreement({
          companyIdentifier: billingId,
          typeName: CONNECTWISE_DEFAULTS.AgreementType,
          name: `${name} ${n + 1}`,
          startDate: `2024-0${n + 1}-01T00:00:00Z`,
        });
        for (const [sku, quantity] of Object.entries(lines))
          sim.state.addAddition(agreement.id, {
            product: { identifier: sku },
            billCustomer: 'Billable',
            quantity,
            description: `${sku} by hand`,
          });
        ids.push(agreement.id);
      }
      agreements.set(billingId, ids);
      return ids;
    },
    quantity(billingId, sku, agreement) {
      return sim.state.quantityOf(agreement ?? agreements.get(billingId)![0]!, sku);
    },
    lines(billingId, sku) {
      return sim.state
        .additionsOf(agreements.get(billingId)![0]!)
        .filter((a) => !a.cancelledDate && a.product.identifier?.toLowerCase() === sku.toLowerCase())
        .sort((a, b) => a.id - b.id)
        .map((a) => ({ description: a.description ?? '', quantity: a.quantity }));
    },
    async sync(endDate, params = {}) {
      const log = new MemoryLog();
      const result = await syncConnectWise({
        params: { ...CONNECTWISE_DEFAULTS, ApiUrl: sim.apiUrl, BillingPeriod: endDate, ...params } as ConnectWiseSyncParameters,
        secrets: () => ({
          CompanyName: DEFAULT_CW_CREDENTIALS.companyId,
          PublicKey: DEFAULT_CW_CREDENTIALS.publicKey,
          PrivateKey: DEFAULT_CW_CREDENTIALS.privateKey,
          ClientID: DEFAULT_CW_CREDENTIALS.clientId,
        }),
        source: billingSummarySource(db, caller),
        log,
        dryRun: false,
        now: new Date(`${endDate}T12:00:00Z`),
        client: { retry: { maxAttempts: 2 }, sleep: async () => {} },
      });
      writes += sim.requests.filter((r) => r.method !== 'GET').length;
      sim.requests.splice(0);
      return { log, result };
    },
    writes: () => writes,
    stop: () => sim.stop(),
  };
}

export const PSAS = [
  { name: 'autotask', start: startAutotask },
  { name: 'connectwise', start: startConnectWise },
] as const;

/**
 * Issue 11 §5's cast: a reseller with its own Billing Identifier, a customer billed directly (the one
 * that moves to reseller billing) and a customer billed through the reseller, with no identifier of its own.
 */
export interface ResellerFamily {
  reseller: Tenant;
  moving: Tenant;
  billed: Tenant;
  /** The ledger fields of an HE mailbox of the tenant's admin on that plan. */
  mailbox(userServiceId: number, tenant: Tenant, plan: 'Ex10Basic' | 'Ex10Full'): Omit<ServiceChange, 'action'>;
}

export async function makeResellerFamily(
  db: DB,
  provider: Caller,
  names: { reseller: [fullname: string, billingId: string]; moving: [fullname: string, billingId: string]; billed: string },
): Promise<ResellerFamily> {
  const [resellerName, resellerBillingId] = names.reseller;
  const reseller = await makeTenant(db, provider, { fullname: resellerName, isReseller: true, billingId: resellerBillingId });
  const moving = await makeTenant(db, reseller.admin, { fullname: names.moving[0], billingId: names.moving[1] });
  const billed = await makeTenant(db, reseller.admin, { fullname: names.billed, billToParent: true });
  const he = (await getService(db, { name: 'HE' })).id;
  const mailbox = (userServiceId: number, tenant: Tenant, plan: 'Ex10Basic' | 'Ex10Full'): Omit<ServiceChange, 'action'> => ({
    customerId: tenant.customer.id,
    userId: tenant.adminUser.id,
    serviceId: he,
    userServiceId,
    customerServiceId: 8000 + tenant.customer.id,
    planCode: plan,
    planName: plan,
    sku: plan === 'Ex10Basic' ? 'HE-MBX-BASIC' : 'HE-MBX-FULL',
  });
  return { reseller, moving, billed, mailbox };
}

/** Adds a unit by hand to the first line of the first demo company, as someone editing the contract in the PSA would. */
export function editPsaByHand(demo: PsaDemo, psa: 'autotask' | 'connectwise'): void {
  const [, ids] = [...demo.contracts][0]!;
  if (psa === 'autotask') {
    const line = demo.autotask.state.all('ContractServices').find((l) => l.contractID === ids.autotask)!;
    demo.autotask.state.applyAdjustment({
      contractID: ids.autotask,
      serviceID: Number(line.serviceID),
      contractServiceID: line.id,
      unitChange: 1,
      effectiveDate: `${new Date().getUTCFullYear() - 1}-01-01`,
    });
  } else {
    const addition = demo.connectwise.state.additionsOf(ids.connectwise)[0]!;
    demo.connectwise.state.patchAddition(ids.connectwise, addition.id, [{ op: 'replace', path: 'quantity', value: addition.quantity + 1 }]);
  }
}

/** The console's jobs endpoints on a bare app, with the fair-use gate their handlers take a slot from (as src/api/server.ts sets it up). */
export async function jobsApi(ctx: AppContext): Promise<FastifyInstance> {
  const api = Fastify({ loggerInstance: ctx.logger }) as unknown as FastifyInstance;
  api.decorate('fairUse', new FairUse(fairUseLimitsOf(ctx.config)));
  await jobsConsoleRoutes()(api, ctx);
  return api;
}
