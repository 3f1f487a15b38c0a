import { completedStatus } from '../../../jobs/run-status.js';
import { PsaProtocolError } from '../shared/errors.js';
import {
  billedForKey,
  changeKey,
  chunks,
  CodedLog,
  CountingSink,
  errorDetails,
  fixed2,
  parseFlag,
  splitDeprovisioned,
  type SyncChange,
  type SyncCustomer,
  type SyncCustomerLine,
  type SyncLogSink,
  type SyncResult,
} from '../shared/sync-model.js';
import { type SyncPeriod, type SyncQuantitySource } from '../shared/sync-source.js';
import { requiredSecrets, syncCustomers, syncPeriod } from '../shared/sync-preamble.js';
import { AutotaskClient, formatAutotaskDate, inForceOn, type AutotaskClientOptions } from './client.js';
import { MAX_RECORDS, where } from './filter.js';
import { dataProblems, mappedId, ProblemsByKey, type DataProblem } from '../shared/data-check.js';
import { AT_CODES } from './sync-codes.js';
import {
  RECURRING_SERVICE_CONTRACT_TYPE,
  type AtCompany,
  type AtContract,
  type AtContractService,
  type AtContractServiceUnit,
  type AtService,
} from './types.js';

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
  /** True: a run computes and stores the diff and waits for approval before writing (issue 11 §7). */
  RequireApproval: string | boolean;
  /** True: a reseller's contract gets one line per billed customer and service instead of one summed line (issue 11 §5). */
  ResellerLinesPerCustomer: string | boolean;
}

export const AUTOTASK_DEFAULTS: AutotaskSyncParameters = {
  BaseUrl: '',
  ZoneUser: '',
  BillingPeriod: 'Current',
  CustomersFilter: '',
  ProRatedTransactions: 'False',
  AllowAtriaCreateItems: 'False',
  SKUType: { name: 'ServiceId', type: 'int' },
  RequireApproval: 'False',
  ResellerLinesPerCustomer: 'False',
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
  /** Keys (changeKey) of an approved diff: only those changes are written. */
  approved?: ReadonlySet<string>;
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

  const perCustomer = parseFlag(p.ResellerLinesPerCustomer);
  const scope = await syncCustomers(
    input.source,
    period,
    p.CustomersFilter,
    { perCustomer },
    {
      failed: (e) => log.emit('AT03', { error: errorDetails(e) }),
    },
  );
  if (!scope) return finish(true);
  const { customers } = scope;
  if (customers.length === 0) {
    log.emit('AT15', { billingDate: period.endDate });
    return finish(false);
  }

  const run = new AutotaskRun(client, log, input, period, now, result);
  try {
    await run.loadManaged(scope.managedSkus);
  } catch (e) {
    log.emit(e instanceof PsaProtocolError ? 'AT23' : 'AT02', { error: errorDetails(e) });
    return finish(true);
  }
  const { active, deprovisioned } = splitDeprovisioned(customers);
  await run.process(active);
  log.emit('AT20');
  await run.process(deprovisioned);
  log.emit('AT21');
  return finish(false);
}

/** What one batch of customers needs from Autotask, read with a few set-based queries. */
/** The contract chosen for a customer and the candidates it was chosen from, or the data problems that prevent a choice. */
type ContractChoice = { contract: AtContract; candidates: AtContract[] } | { problems: readonly DataProblem[] } | undefined;

interface Batch {
  /** Companies by Billing Identifier (company number or id, lower case). */
  companies: Map<string, AtCompany>;
  /** Unusable company records, by the Billing Identifiers they would match. */
  companyProblems: ProblemsByKey<string>;
  /** By customer id. */
  choices: Map<number, ContractChoice>;
  /** By contract, service and the customer a per-customer line is for ('' for the account's own line): see lineKeyOf. */
  lines: Map<string, AtContractService>;
  /** Unusable contract lines or unit records, by contract id. */
  lineProblems: ProblemsByKey<number>;
  /** Every line of each contract, for the reconciliation of lines Tenantry no longer bills. */
  linesByContract: Map<number, AtContractService[]>;
  units: Map<number, number>;
}

class AutotaskRun {
  readonly #createItems: boolean;
  readonly #skuField: SkuField;
  readonly #effectiveDate: string;
  readonly #services = new Map<string, AtService | null>();
  /** Services that a Tenantry SKU maps to, by id: only their contract lines are reconciled. */
  readonly #managed = new Map<number, AtService>();

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

  /** Maps every managed SKU to its service once per run (a few `in` queries), so each contract's managed lines are known. */
  async loadManaged(skus: ReadonlySet<string>): Promise<void> {
    await this.#loadSkus([...skus]);
    for (const service of this.#services.values()) if (service) this.#managed.set(service.id, service);
  }

  async process(customers: SyncCustomer[]): Promise<void> {
    for (const customer of customers) {
      if (customer.billingId === null) this.log.emit('AT04', { customerCode: customer.code, customerName: customer.name });
    }
    const withCompany = customers.filter((c) => c.billingId !== null);
    for (const group of chunks(withCompany, CUSTOMER_BATCH)) {
      let batch: Batch;
      try {
        await this.#loadSkus(group.flatMap((c) => c.lines.map((l) => l.sku)));
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
    if (this.#badData(customer, batch.companyProblems.get(billingId.toLowerCase()))) return;
    const company = batch.companies.get(billingId.toLowerCase());
    if (!company) {
      this.log.emit('AT05', { customerName, customerAccountCode: billingId });
      return;
    }
    const choice = batch.choices.get(customer.customerId);
    if (choice && 'problems' in choice) {
      this.#badData(customer, choice.problems);
      return;
    }
    if (!choice) {
      this.log.emit('AT06', { customerName, customerAccountCode: billingId });
      return;
    }
    const { contract } = choice;
    if (this.#badData(customer, batch.lineProblems.get(contract.id))) return;
    if (choice.candidates.length > 1) {
      this.log.emit('AT26', {
        customerName,
        candidates: choice.candidates.map(describeContract).join(', '),
        chosen: describeContract(contract),
      });
    }
    /** Contract lines this customer's billed lines matched: every other managed line is reconciled to 0. */
    const reconciled = new Set<number>();
    for (const line of customer.lines) {
      const service = this.#services.get(line.sku.toLowerCase());
      if (!service) {
        // A SKU billed earlier in the period only has nothing to push: no warning for it.
        if (line.quantity !== 0) this.log.emit('AT08', { customerName, lineDescription: line.description });
        continue;
      }
      const billedFor = line.billedFor?.code ?? '';
      const existing = batch.lines.get(lineKeyOf(contract.id, service.id, billedFor));
      if (existing) reconciled.add(existing.id);
      // A per-customer line is named by its description: log and diff show it rather than the service name.
      const name = line.billedFor ? line.description : service.name;
      const change = {
        customerCode: customer.code,
        customerName,
        billingId,
        sku: line.sku,
        line: name,
        ...(line.billedFor ? { billedFor: line.billedFor.code } : {}),
      };
      if (!existing) {
        // Nothing to create for a line that would hold no units.
        if (line.quantity === 0) continue;
        if (!this.#createItems) {
          this.log.emit('AT12', { customerName, lineDescription: line.description, sku: line.sku });
          continue;
        }
        if (await this.#createLine(customer, contract, service, line, batch)) {
          this.log.emit('AT11', { customerName, name, id: service.id });
          this.#record({ ...change, action: 'create', from: 0, to: line.quantity });
        }
        continue;
      }
      const current = batch.units.get(existing.id) ?? 0;
      if (current === line.quantity) {
        this.log.emit('AT10', { customerName, name });
        continue;
      }
      if (!(await this.#adjust(customer, contract, service, existing.id, line.quantity - current, line.sku, current, billedFor))) continue;
      if (line.quantity === 0) {
        this.log.emit('AT13', {
          customerName,
          serviceDescription: line.billedFor ? line.description : (service.description ?? service.name),
          serviceName: service.name,
          units: fixed2(current),
        });
        this.#record({ ...change, action: 'zero', from: current, to: 0 });
      } else {
        this.log.emit('AT09', {
          customerName,
          lineDescription: line.description,
          sku: line.sku,
          oldValue: String(current),
          newValue: String(line.quantity),
        });
        this.#record({ ...change, action: 'update', from: current, to: line.quantity });
      }
    }
    await this.#zeroUnbilled(customer, contract, batch, reconciled);
  }

  /**
   * Reconcile, don't replay (issue 11 §1): a contract line of a managed service that Tenantry
   * does not bill this customer for in the period (added by hand, or removed before any run saw
   * it go) goes to 0 (AT13). Lines of services no Tenantry SKU maps to are never touched.
   */
  async #zeroUnbilled(customer: SyncCustomer, contract: AtContract, batch: Batch, reconciled: ReadonlySet<number>): Promise<void> {
    for (const existing of batch.linesByContract.get(contract.id) ?? []) {
      const service = this.#managed.get(existing.serviceID);
      if (!service || reconciled.has(existing.id)) continue;
      const current = batch.units.get(existing.id) ?? 0;
      if (current === 0) continue;
      const sku = this.#skuOf(service);
      // A per-customer line (issue 11 §5) of a customer no longer billed here, or from before the parameter was turned off.
      const billedFor = billedForKey(existing.invoiceDescription);
      if (!(await this.#adjust(customer, contract, service, existing.id, -current, sku, current, billedFor))) continue;
      const name = billedFor ? existing.invoiceDescription! : service.name;
      this.log.emit('AT13', {
        customerName: customer.name,
        serviceDescription: billedFor ? name : (service.description ?? service.name),
        serviceName: service.name,
        units: fixed2(current),
      });
      this.#record({
        customerCode: customer.code,
        customerName: customer.name,
        billingId: customer.billingId!,
        sku,
        line: name,
        action: 'zero',
        from: current,
        to: 0,
        ...(billedFor ? { billedFor } : {}),
      });
    }
  }

  /**
   * A missing line with units. Posting an adjustment without a contract service creates the line
   * (one call, A.9); but a per-customer line needs its description naming the customer, and when
   * the contract already has a line of the service the adjustment would land on that one. Those
   * lines are created first (ContractServices POST, description set) and then adjusted by id.
   */
  async #createLine(
    customer: SyncCustomer,
    contract: AtContract,
    service: AtService,
    line: SyncCustomerLine,
    batch: Batch,
  ): Promise<boolean> {
    const billedFor = line.billedFor?.code ?? '';
    const sameService = (batch.linesByContract.get(contract.id) ?? []).some((l) => l.serviceID === service.id);
    if (!billedFor && !sameService) return this.#adjust(customer, contract, service, undefined, line.quantity, line.sku, 0);
    if (!this.#approved(customer, line.sku, 0, line.quantity, billedFor)) return false;
    if (this.input.dryRun) return true;
    let id: number;
    try {
      id = await this.client.createContractService({
        contractID: contract.id,
        serviceID: service.id,
        unitPrice: service.unitPrice ?? 0,
        ...(billedFor ? { invoiceDescription: line.description } : {}),
      });
    } catch (e) {
      if (e instanceof PsaProtocolError) this.log.emit('AT23', { error: errorDetails(e) });
      else this.log.emit('AT14', { customerName: customer.name, sku: line.sku, error: errorDetails(e) });
      return false;
    }
    return this.#adjust(customer, contract, service, id, line.quantity, line.sku, 0, billedFor);
  }

  /** Logs each problem (AT25) and says whether there were any: a customer with unusable PSA data is skipped, the run goes on. */
  #badData(customer: SyncCustomer, problems: readonly DataProblem[]): boolean {
    for (const p of problems) this.log.emit('AT25', { customerName: customer.name, ...p });
    return problems.length > 0;
  }

  /** The SKU a managed service is known by in Tenantry (the SKUType field's value). */
  #skuOf(service: AtService): string {
    return this.#skuField === 'id' ? String(service.id) : String(service[this.#skuField] ?? service.name);
  }

  /**
   * Units only change through a ContractServiceAdjustment (psa-wire.md A.9); posting one for a
   * missing line creates the line, so a new line costs one call. On a dry run nothing is sent.
   */
  async #adjust(
    customer: SyncCustomer,
    contract: AtContract,
    service: AtService,
    contractServiceID: number | undefined,
    unitChange: number,
    sku: string,
    from: number,
    billedFor = '',
  ): Promise<boolean> {
    if (!this.#approved(customer, sku, from, from + unitChange, billedFor)) return false;
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

  /** An approved run writes only the approved changes (issue 11 §7). */
  #approved(customer: SyncCustomer, sku: string, from: number, to: number, billedFor: string): boolean {
    return !this.input.approved || this.input.approved.has(changeKey({ billingId: customer.billingId!, sku, from, to, billedFor }));
  }

  #record(change: SyncChange): void {
    this.result.changes.push(change);
  }

  /** Maps every SKU not yet seen to its Service, in `in` queries of up to 500 values (A.4). */
  async #loadSkus(skus: readonly string[]): Promise<void> {
    const wanted = [...new Map(skus.map((s) => [s.toLowerCase(), s])).values()].filter((s) => !this.#services.has(s.toLowerCase()));
    if (wanted.length === 0) return;
    if (this.#skuField === 'id') {
      const services = await this.client.listServicesByIds(wanted.filter((s) => /^\d+$/.test(s)).map(Number));
      const found = new Map(services.map((s) => [s.id, s]));
      for (const sku of wanted) this.#services.set(sku.toLowerCase(), /^\d+$/.test(sku) ? (found.get(Number(sku)) ?? null) : null);
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
    const problems = new ProblemsByKey<string>();
    for (const c of companies) {
      const bad = dataProblems('Company', c as unknown as Record<string, unknown>, { id: 'number', companyNumber: 'string?' });
      const keys = [typeof c.companyNumber === 'string' ? c.companyNumber.toLowerCase() : '', String(c.id)].filter((k) => k !== '');
      if (bad.length) for (const k of keys) problems.add(k, bad);
      else for (const k of keys) if (!byKey.has(k) || k === String(c.id)) byKey.set(k, c);
    }

    const companyIds = [...new Set([...byKey.values()].map((c) => c.id))];
    const contractsOf = new Map<number, AtContract[]>();
    const contractProblems = new ProblemsByKey<number>();
    if (companyIds.length) {
      const found = await this.client.query<AtContract>('Contracts', [
        where.in('companyID', companyIds),
        where.eq('contractType', RECURRING_SERVICE_CONTRACT_TYPE),
      ]);
      for (const c of found) {
        if (typeof c.companyID !== 'number') continue;
        contractsOf.set(c.companyID, [...(contractsOf.get(c.companyID) ?? []), c]);
        contractProblems.add(
          c.id,
          dataProblems('Contract', c as unknown as Record<string, unknown>, { id: 'number', startDate: 'date', endDate: 'date' }),
        );
      }
    }
    const choices = new Map<number, ContractChoice>();
    for (const customer of customers) {
      const company = byKey.get(customer.billingId!.toLowerCase());
      if (company) choices.set(customer.customerId, this.#chooseContract(customer, contractsOf.get(company.id) ?? [], contractProblems));
    }
    const contractIds = [...new Set([...choices.values()].flatMap((c) => (c && 'contract' in c ? [c.contract.id] : [])))];
    const lines = new Map<string, AtContractService>();
    const linesByContract = new Map<number, AtContractService[]>();
    const units = new Map<number, number>();
    const lineProblems = new ProblemsByKey<number>();
    if (contractIds.length) {
      for (const l of await this.client.query<AtContractService>('ContractServices', [where.in('contractID', contractIds)])) {
        const bad = dataProblems('ContractService', l as unknown as Record<string, unknown>, {
          id: 'number',
          contractID: 'number',
          serviceID: 'number',
        });
        if (bad.length) {
          lineProblems.add(l.contractID, bad);
          continue;
        }
        // Several lines of one service and customer: the first is kept, the others are reconciled to 0.
        const key = lineKeyOf(l.contractID, l.serviceID, billedForKey(l.invoiceDescription));
        if (!lines.has(key)) lines.set(key, l);
        linesByContract.set(l.contractID, [...(linesByContract.get(l.contractID) ?? []), l]);
      }
      // Units in force on the effective date (A.9 step 3), for every line of the batch at once.
      const day = this.#day();
      const records = await this.client.query<AtContractServiceUnit>('ContractServiceUnits', [
        where.in('contractID', contractIds),
        where.lte('startDate', formatAutotaskDate(day)),
        where.gte('endDate', formatAutotaskDate(day)),
      ]);
      const valid: AtContractServiceUnit[] = [];
      for (const r of records) {
        const bad = dataProblems('ContractServiceUnit', r as unknown as Record<string, unknown>, {
          contractServiceID: 'number',
          units: 'number',
          startDate: 'date',
          endDate: 'date',
        });
        if (bad.length) lineProblems.add(r.contractID, bad);
        else valid.push(r);
      }
      for (const r of valid.sort((a, b) => a.startDate.localeCompare(b.startDate))) units.set(r.contractServiceID, r.units);
    }
    return { companies: byKey, companyProblems: problems, choices, lines, linesByContract, lineProblems, units };
  }

  #day(): string {
    return formatAutotaskDate(this.#effectiveDate).slice(0, 10);
  }

  /**
   * The contract a customer's lines go to (issue 11 §6): the customer's PsaContractId when set (it
   * must be one of the company's Recurring Service contracts), otherwise the one in force on the
   * effective date with the latest start date, then the lowest id. Without an explicit choice, a
   * contract with unusable dates makes the choice impossible: a data problem, not a guess.
   */
  #chooseContract(customer: SyncCustomer, contracts: AtContract[], problems: ProblemsByKey<number>): ContractChoice {
    const mapped = mappedId(customer.psaContractId, 'PsaContractId');
    if (mapped !== undefined && typeof mapped !== 'number') return { problems: [mapped] };
    if (typeof mapped === 'number') {
      const contract = contracts.find((c) => c.id === mapped);
      if (!contract)
        return {
          problems: [
            {
              entity: 'Customer property',
              id: 'PsaContractId',
              field: 'PsaContractId',
              value: `${mapped} (not a Recurring Service contract of company ${customer.billingId})`,
            },
          ],
        };
      return problems.get(contract.id).length ? { problems: problems.get(contract.id) } : { contract, candidates: [contract] };
    }
    const bad = contracts.flatMap((c) => problems.get(c.id));
    if (bad.length) return { problems: bad };
    const day = this.#day();
    const candidates = contracts
      .filter((c) => inForceOn(c, day))
      .sort((a, b) => b.startDate.slice(0, 10).localeCompare(a.startDate.slice(0, 10)) || a.id - b.id);
    return candidates.length ? { contract: candidates[0]!, candidates } : undefined;
  }
}

function lineKeyOf(contractId: number, serviceId: number, billedFor: string): string {
  return `${contractId}:${serviceId}:${billedFor.toLowerCase()}`;
}

function describeContract(c: AtContract): string {
  return `${c.id} "${c.contractName}" from ${String(c.startDate).slice(0, 10)}`;
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
