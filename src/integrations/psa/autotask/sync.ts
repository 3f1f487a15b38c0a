import { completedStatus } from '../../../jobs/run-status.js';
import { PsaProtocolError } from '../shared/errors.js';
import {
  chunks, CodedLog, CountingSink, errorDetails, fixed2, parseFlag, splitDeprovisioned,
  type SyncChange, type SyncCustomer, type SyncLogSink, type SyncResult,
} from '../shared/sync-model.js';
import { type SyncPeriod, type SyncQuantitySource } from '../shared/sync-source.js';
import { requiredSecrets, syncCustomers, syncPeriod } from '../shared/sync-preamble.js';
import { AutotaskClient, formatAutotaskDate, inForceOn, type AutotaskClientOptions } from './client.js';
import { MAX_RECORDS, where } from './filter.js';
import { AT_CODES } from './sync-codes.js';
import { RECURRING_SERVICE_CONTRACT_TYPE, type AtCompany, type AtContract, type AtContractService, type AtContractServiceUnit, type AtService } from './types.js';

/** Job parameters of the "Autotask PSA" task (seed 003 "Configuration"), after defaults. */
export interface AutotaskSyncParameters {
  BaseUrl: string;
  ZoneUser: string;
  BillingPeriod: string;
  CustomersFilter: string | string[];
  ProRatedTransactions: string | boolean;
  AllowAtriaCreateItems: string | boolean;
  /** Which Service field the SKU holds (seed 003 "Setup Product Mapping"); ServiceId by default. */
  SKUType: { name: string; type?: string } | string;
}

export const AUTOTASK_DEFAULTS: AutotaskSyncParameters = {
  BaseUrl: '',
  ZoneUser: '',
  BillingPeriod: 'Current',
  CustomersFilter: '',
  ProRatedTransactions: 'False',
  AllowAtriaCreateItems: 'False',
  SKUType: { name: 'ServiceId', type: 'int' },
};

/** Secrets of the task. Seed 003 names UserName and Secret; IntegrationCode is Tenantry's own API tracking identifier. */
export const AUTOTASK_SECRET_NAMES = ['UserName', 'Secret', 'IntegrationCode'] as const;

export interface AutotaskSyncInput {
  params: AutotaskSyncParameters;
  /** Opens the job's secrets; a throw is reported as AT16. */
  secrets: () => Record<string, string>;
  source: SyncQuantitySource;
  log: SyncLogSink;
  dryRun: boolean;
  now?: Date;
  /** Shown in AT22 (Atria's JobWorkerTaskTypeId). */
  taskTypeId: string;
  /** Transport settings (zone lookup host, retry, timeouts); credentials come from the secrets. */
  client?: Partial<Omit<AutotaskClientOptions, 'userName' | 'secret' | 'integrationCode' | 'baseUrl' | 'zoneUser'>>;
}

type SkuField = 'id' | 'name' | 'invoiceDescription' | 'description';

/** Customers per batch of reads: each batch costs a handful of queries whatever its size (issue 7 §10). */
const CUSTOMER_BATCH = 200;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Pushes a bill period's quantities into each customer's Autotask Recurring Services contract
 * (seed 003). Bad data and per-customer API errors are logged with their AT code and the run
 * goes on; only unusable parameters, secrets or connections end it early.
 */
export async function syncAutotask(input: AutotaskSyncInput): Promise<SyncResult> {
  const sink = new CountingSink(input.log);
  const log = new CodedLog(AT_CODES, sink);
  const result: SyncResult = { aborted: false, changes: [], apiCalls: 0, customers: 0 };
  let client: AutotaskClient | undefined;
  const finish = (aborted: boolean): SyncResult => {
    result.aborted = aborted;
    result.apiCalls = client?.counter.total ?? 0;
    log.emit('AT24', { status: aborted ? 'Failed' : completedStatus(sink.counts) });
    return result;
  };

  log.emit('AT22', { taskTypeId: input.taskTypeId });
  const p = input.params;
  const baseUrl = p.BaseUrl.trim();
  // Zone discovery needs the user's email (seed 003 ZoneUser); BaseUrl makes it unnecessary.
  if (baseUrl === '' && !EMAIL.test(p.ZoneUser.trim())) {
    log.emit('AT17');
    return finish(true);
  }
  const secrets = requiredSecrets(input.secrets, AUTOTASK_SECRET_NAMES, {
    unreadable: (e) => log.emit('AT16', { message: errorDetails(e) }),
    missing: (name) => log.emit('AT18', { secret: name }),
  });
  if (!secrets) return finish(true);
  const now = input.now ?? new Date();
  const period = await syncPeriod(input.source, p.BillingPeriod, now, {
    invalid: () => log.emit('AT19'),
    failed: (e) => log.emit('AT03', { error: errorDetails(e) }),
  });
  if (!period) return finish(true);
  log.emit('AT01', { periodEndDate: period.endDate });

  client = new AutotaskClient({
    ...input.client,
    userName: secrets.UserName!,
    secret: secrets.Secret!,
    integrationCode: secrets.IntegrationCode!,
    ...(baseUrl ? { baseUrl } : { zoneUser: p.ZoneUser.trim() }),
  });
  try {
    // One authenticated call proves the zone and credentials before any customer is touched.
    await client.thresholdInformation();
  } catch (e) {
    log.emit(e instanceof PsaProtocolError ? 'AT23' : 'AT02', { error: errorDetails(e) });
    return finish(true);
  }

  const customers = await syncCustomers(input.source, period, p.CustomersFilter, {
    failed: (e) => log.emit('AT03', { error: errorDetails(e) }),
  });
  if (!customers) return finish(true);
  if (customers.length === 0) {
    log.emit('AT15', { billingDate: period.endDate });
    return finish(false);
  }

  const run = new AutotaskRun(client, log, input, period, now, result);
  const { active, deprovisioned } = splitDeprovisioned(customers);
  await run.process(active);
  log.emit('AT20');
  await run.process(deprovisioned);
  log.emit('AT21');
  return finish(false);
}

/** What one batch of customers needs from Autotask, read with a few set-based queries. */
interface Batch {
  companies: Map<string, AtCompany>;
  contracts: Map<number, AtContract>;
  lines: Map<string, AtContractService>;
  units: Map<number, number>;
}

class AutotaskRun {
  readonly #createItems: boolean;
  readonly #skuField: SkuField;
  readonly #effectiveDate: string;
  readonly #services = new Map<string, AtService | null>();

  constructor(
    private readonly client: AutotaskClient,
    private readonly log: CodedLog<typeof AT_CODES>,
    private readonly input: AutotaskSyncInput,
    period: SyncPeriod,
    now: Date,
    private readonly result: SyncResult,
  ) {
    this.#createItems = parseFlag(input.params.AllowAtriaCreateItems);
    this.#skuField = skuField(input.params.SKUType);
    // seed 003 ProRatedTransactions: True = the change takes effect now, False = at the period's start.
    this.#effectiveDate = parseFlag(input.params.ProRatedTransactions) ? now.toISOString().slice(0, 10) : period.startDate;
  }

  async process(customers: SyncCustomer[]): Promise<void> {
    for (const customer of customers) {
      if (customer.billingId === null) this.log.emit('AT04', { customerCode: customer.code, customerName: customer.name });
    }
    const withCompany = customers.filter((c) => c.billingId !== null);
    for (const group of chunks(withCompany, CUSTOMER_BATCH)) {
      let batch: Batch;
      try {
        await this.#loadServices(group);
        batch = await this.#loadBatch(group);
      } catch (e) {
        // A failed read skips this batch only; the run goes on with the next (issue 7 §8).
        const skipped = group.map((c) => c.code).join(', ');
        this.log.emit(e instanceof PsaProtocolError ? 'AT23' : 'AT02', { error: `${errorDetails(e)} (customers skipped: ${skipped})` });
        continue;
      }
      for (const customer of group) await this.#customer(customer, batch);
    }
  }

  async #customer(customer: SyncCustomer, batch: Batch): Promise<void> {
    this.result.customers += 1;
    const billingId = customer.billingId!;
    const customerName = customer.name;
    for (const l of customer.missingSku) this.log.emit('AT07', { customerName, lineDescription: l.description });
    const company = batch.companies.get(billingId.toLowerCase());
    if (!company) {
      this.log.emit('AT05', { customerName, customerAccountCode: billingId });
      return;
    }
    const contract = batch.contracts.get(company.id);
    if (!contract) {
      this.log.emit('AT06', { customerName, customerAccountCode: billingId });
      return;
    }
    for (const line of customer.lines) {
      const service = this.#services.get(line.sku.toLowerCase());
      if (!service) {
        this.log.emit('AT08', { customerName, lineDescription: line.description });
        continue;
      }
      const existing = batch.lines.get(`${contract.id}:${service.id}`);
      const change = { customerCode: customer.code, customerName, billingId, sku: line.sku, line: service.name };
      if (!existing) {
        // Nothing to create for a line that would hold no units.
        if (line.quantity === 0) continue;
        if (!this.#createItems) {
          this.log.emit('AT12', { customerName, lineDescription: line.description, sku: line.sku });
          continue;
        }
        if (await this.#adjust(customer, contract, service, undefined, line.quantity, line.sku)) {
          this.log.emit('AT11', { customerName, name: service.name, id: service.id });
          this.#record({ ...change, action: 'create', from: 0, to: line.quantity });
        }
        continue;
      }
      const current = batch.units.get(existing.id) ?? 0;
      if (current === line.quantity) {
        this.log.emit('AT10', { customerName, name: service.name });
        continue;
      }
      if (!(await this.#adjust(customer, contract, service, existing.id, line.quantity - current, line.sku))) continue;
      if (line.quantity === 0) {
        this.log.emit('AT13', { customerName, serviceDescription: service.description ?? service.name, serviceName: service.name, units: fixed2(current) });
        this.#record({ ...change, action: 'zero', from: current, to: 0 });
      } else {
        this.log.emit('AT09', { customerName, lineDescription: line.description, sku: line.sku, oldValue: String(current), newValue: String(line.quantity) });
        this.#record({ ...change, action: 'update', from: current, to: line.quantity });
      }
    }
  }

  /**
   * Units only change through a ContractServiceAdjustment (psa-wire.md A.9); posting one for a
   * missing line creates the line, so a new line costs one call. On a dry run nothing is sent.
   */
  async #adjust(customer: SyncCustomer, contract: AtContract, service: AtService, contractServiceID: number | undefined, unitChange: number, sku: string): Promise<boolean> {
    if (this.input.dryRun) return true;
    try {
      await this.client.createContractServiceAdjustment({
        contractID: contract.id,
        serviceID: service.id,
        ...(contractServiceID === undefined ? {} : { contractServiceID }),
        unitChange,
        effectiveDate: this.#effectiveDate,
      });
      return true;
    } catch (e) {
      if (e instanceof PsaProtocolError) this.log.emit('AT23', { error: errorDetails(e) });
      else this.log.emit('AT14', { customerName: customer.name, sku, error: errorDetails(e) });
      return false;
    }
  }

  #record(change: SyncChange): void {
    this.result.changes.push(change);
  }

  /** Maps every SKU not yet seen to its Service, in `in` queries of up to 500 values (A.4). */
  async #loadServices(customers: SyncCustomer[]): Promise<void> {
    const wanted = [...new Set(customers.flatMap((c) => c.lines.map((l) => l.sku)))].filter((s) => !this.#services.has(s.toLowerCase()));
    if (wanted.length === 0) return;
    if (this.#skuField === 'id') {
      const services = await this.client.listServicesByIds(wanted.filter((s) => /^\d+$/.test(s)).map(Number));
      const found = new Map(services.map((s) => [s.id, s]));
      for (const sku of wanted) this.#services.set(sku.toLowerCase(), /^\d+$/.test(sku) ? found.get(Number(sku)) ?? null : null);
      return;
    }
    const field = this.#skuField;
    const found = new Map<string, AtService>();
    for (const part of chunks(wanted, MAX_RECORDS)) {
      const services = await this.client.query<AtService>('Services', [where.in(field, part)]);
      // Names need not be unique: the lowest id wins, so repeated runs pick the same service.
      for (const s of services.sort((a, b) => a.id - b.id)) {
        const key = String(s[field] ?? '').toLowerCase();
        if (key !== '' && !found.has(key)) found.set(key, s);
      }
    }
    for (const sku of wanted) this.#services.set(sku.toLowerCase(), found.get(sku.toLowerCase()) ?? null);
  }

  async #loadBatch(customers: SyncCustomer[]): Promise<Batch> {
    const billingIds = [...new Set(customers.map((c) => c.billingId!))];
    // The Billing Identifier is the Autotask company id (seed 003 "Setup Customer Mapping"); the
    // AT04/AT05 texts speak of the Company Number, so that is matched too.
    const numeric = billingIds.filter((b) => /^\d+$/.test(b)).map(Number);
    const companies = await this.client.query<AtCompany>('Companies', [
      numeric.length ? where.or(where.in('id', numeric), where.in('companyNumber', billingIds)) : where.in('companyNumber', billingIds),
    ]);
    const byKey = new Map<string, AtCompany>();
    for (const c of companies) if (c.companyNumber) byKey.set(c.companyNumber.toLowerCase(), c);
    for (const c of companies) byKey.set(String(c.id), c);

    const companyIds = [...new Set([...byKey.values()].map((c) => c.id))];
    const contracts = new Map<number, AtContract>();
    const day = formatAutotaskDate(this.#effectiveDate).slice(0, 10);
    if (companyIds.length) {
      const found = await this.client.query<AtContract>('Contracts', [where.in('companyID', companyIds), where.eq('contractType', RECURRING_SERVICE_CONTRACT_TYPE)]);
      // seed 003: several Recurring Services contracts give inconsistent results; take the one in
      // force on the effective date with the lowest id, so every run picks the same one.
      for (const c of found.sort((a, b) => a.id - b.id)) {
        if (inForceOn(c, day) && !contracts.has(c.companyID)) contracts.set(c.companyID, c);
      }
    }
    const contractIds = [...contracts.values()].map((c) => c.id);
    const lines = new Map<string, AtContractService>();
    const units = new Map<number, number>();
    if (contractIds.length) {
      for (const l of await this.client.query<AtContractService>('ContractServices', [where.in('contractID', contractIds)])) {
        lines.set(`${l.contractID}:${l.serviceID}`, l);
      }
      // Units in force on the effective date (A.9 step 3), for every line of the batch at once.
      const records = await this.client.query<AtContractServiceUnit>('ContractServiceUnits', [
        where.in('contractID', contractIds), where.lte('startDate', formatAutotaskDate(day)), where.gte('endDate', formatAutotaskDate(day)),
      ]);
      for (const r of records.sort((a, b) => a.startDate.localeCompare(b.startDate))) units.set(r.contractServiceID, r.units);
    }
    return { companies: byKey, contracts, lines, units };
  }
}

function skuField(value: AutotaskSyncParameters['SKUType']): SkuField {
  const name = (typeof value === 'string' ? value : value.name).trim().toLowerCase();
  if (name === 'name') return 'name';
  if (name === 'invoicedescription') return 'invoiceDescription';
  if (name === 'description') return 'description';
  return 'id';
}

/** SKUType names the seed documents; anything else is refused when the job is saved. */
export const SKU_TYPES = ['ServiceId', 'name', 'InvoiceDescription', 'description'] as const;
