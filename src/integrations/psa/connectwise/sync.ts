import { completedStatus } from '../../../jobs/run-status.js';
import { PsaProtocolError } from '../shared/errors.js';
import {
  chunks, CodedLog, CountingSink, errorDetails, fixed2, parseFlag, splitDeprovisioned,
  type SyncCustomer, type SyncLogSink, type SyncResult,
} from '../shared/sync-model.js';
import { type SyncPeriod, type SyncQuantitySource } from '../shared/sync-source.js';
import { requiredSecrets, syncCustomers, syncPeriod } from '../shared/sync-preamble.js';
import { ConnectWiseClient, type ConnectWiseClientOptions } from './client.js';
import { allOf, anyOf, condition } from './conditions.js';
import { CW_CODES } from './sync-codes.js';
import type { CwAddition, CwAgreement, CwCatalogItem, CwCompany } from './types.js';

/** Job parameters of the "ConnectWise Manage Billing" task (seed 004), after defaults. */
export interface ConnectWiseSyncParameters {
  ApiUrl: string;
  AgreementType: string;
  AllowAtriaCreateAdditions: string | boolean;
  BillingPeriod: string;
  CustomersFilter: string | string[];
}

export const CONNECTWISE_DEFAULTS: ConnectWiseSyncParameters = {
  ApiUrl: '',
  AgreementType: 'Cloud and Hosting Services',
  AllowAtriaCreateAdditions: 'False',
  BillingPeriod: 'Current',
  CustomersFilter: '',
};

/** Secrets of the task (seed 004 "Secrets"). */
export const CONNECTWISE_SECRET_NAMES = ['CompanyName', 'PublicKey', 'PrivateKey', 'ClientID'] as const;

export interface ConnectWiseSyncInput {
  params: ConnectWiseSyncParameters;
  /** Opens the job's secrets; a throw is reported as CW16. */
  secrets: () => Record<string, string>;
  source: SyncQuantitySource;
  log: SyncLogSink;
  dryRun: boolean;
  now?: Date;
  /** Transport settings (retry, timeouts, page size); credentials come from the secrets. */
  client?: Partial<Omit<ConnectWiseClientOptions, 'companyId' | 'publicKey' | 'privateKey' | 'clientId' | 'apiUrl'>>;
}

/** Customers per batch of company/agreement lookups; conditions travel in the URL, so batches stay modest. */
const CUSTOMER_BATCH = 50;

/**
 * Pushes a bill period's quantities into each customer's ConnectWise agreement additions
 * (seed 004). Bad data and per-customer API errors are logged with their CW code and the run
 * goes on; only unusable parameters, secrets or connections end it early.
 */
export async function syncConnectWise(input: ConnectWiseSyncInput): Promise<SyncResult> {
  const sink = new CountingSink(input.log);
  const log = new CodedLog(CW_CODES, sink);
  const result: SyncResult = { aborted: false, changes: [], apiCalls: 0, customers: 0 };
  let client: ConnectWiseClient | undefined;
  const finish = (aborted: boolean): SyncResult => {
    result.aborted = aborted;
    result.apiCalls = client?.counter.total ?? 0;
    log.emit('CW23', { status: aborted ? 'Failed' : completedStatus(sink.counts) });
    return result;
  };

  const p = input.params;
  if (p.ApiUrl.trim() === '') {
    log.emit('CW17');
    return finish(true);
  }
  const secrets = requiredSecrets(input.secrets, CONNECTWISE_SECRET_NAMES, {
    unreadable: (e) => log.emit('CW16', { message: errorDetails(e) }),
    missing: (name) => log.emit('CW18', { property: name }),
  });
  if (!secrets) return finish(true);
  const period = await syncPeriod(input.source, p.BillingPeriod, input.now ?? new Date(), {
    invalid: () => log.emit('CW19'),
    failed: (e) => log.emit('CW03', { error: errorDetails(e) }),
  });
  if (!period) return finish(true);
  log.emit('CW01', { periodEndDate: period.endDate });

  client = new ConnectWiseClient({
    ...input.client,
    apiUrl: p.ApiUrl.trim(),
    companyId: secrets.CompanyName!,
    publicKey: secrets.PublicKey!,
    privateKey: secrets.PrivateKey!,
    clientId: secrets.ClientID!,
  });
  try {
    // The first call both proves the connection and validates AgreementType (CW21).
    const type = p.AgreementType.trim() === '' ? undefined : await client.findAgreementType(p.AgreementType.trim());
    if (!type) {
      log.emit('CW21');
      return finish(true);
    }
  } catch (e) {
    if (e instanceof PsaProtocolError) log.emit('CW13', { error: errorDetails(e) });
    else log.emit('CW02', { error: errorDetails(e) });
    return finish(true);
  }

  const customers = await syncCustomers(input.source, period, p.CustomersFilter, {
    failed: (e) => log.emit('CW03', { error: errorDetails(e) }),
  });
  if (!customers) return finish(true);
  if (customers.length === 0) {
    log.emit('CW15', { invoiceDate: period.endDate });
    return finish(false);
  }
  const run = new ConnectWiseRun(client, log, input, period, result);
  // De-provisioned customers last, every line reduced to zero (CW20), as the Autotask sync does.
  const { active, deprovisioned } = splitDeprovisioned(customers);
  await run.process(active);
  await run.process(deprovisioned);
  return finish(false);
}

interface Batch {
  companies: Map<string, CwCompany>;
  agreements: Map<string, CwAgreement>;
}

class ConnectWiseRun {
  readonly #createAdditions: boolean;
  /** SKU (lower case) → catalog item, null when absent, or the error that prevented the lookup (CW11). */
  readonly #catalog = new Map<string, CwCatalogItem | null | { error: string }>();

  constructor(
    private readonly client: ConnectWiseClient,
    private readonly log: CodedLog<typeof CW_CODES>,
    private readonly input: ConnectWiseSyncInput,
    private readonly period: SyncPeriod,
    private readonly result: SyncResult,
  ) {
    this.#createAdditions = parseFlag(input.params.AllowAtriaCreateAdditions);
  }

  async process(customers: SyncCustomer[]): Promise<void> {
    for (const c of customers) if (c.billingId === null) this.log.emit('CW04', { customerCode: c.code, customerName: c.name });
    for (const group of chunks(customers.filter((c) => c.billingId !== null), CUSTOMER_BATCH)) {
      let batch: Batch;
      try {
        batch = await this.#loadBatch(group);
      } catch (e) {
        // A failed lookup skips this batch only (issue 7 §8).
        const skipped = group.map((c) => c.code).join(', ');
        if (e instanceof PsaProtocolError) this.log.emit('CW13', { error: `${errorDetails(e)} (customers skipped: ${skipped})` });
        else this.log.emit('CW02', { error: `${errorDetails(e)} (customers skipped: ${skipped})` });
        continue;
      }
      await this.#loadCatalog(group);
      for (const customer of group) await this.#customer(customer, batch);
    }
  }

  async #customer(customer: SyncCustomer, batch: Batch): Promise<void> {
    this.result.customers += 1;
    const { code: customerCode, name: customerName } = customer;
    const billingId = customer.billingId!;
    for (const l of customer.missingSku) this.log.emit('CW05', { customerCode, customerName, lineDescription: l.description });
    const company = batch.companies.get(billingId.toLowerCase());
    const agreement = company ? batch.agreements.get(company.identifier.toLowerCase()) : undefined;
    if (!agreement) {
      this.log.emit('CW14', { customerName, customerAccountCode: billingId, agreementType: this.input.params.AgreementType });
      return;
    }
    let additions: CwAddition[] | undefined;
    let readError = '';
    try {
      // One paged call per customer: every live addition of the agreement (B.6).
      additions = await this.client.listAdditions(agreement.id);
    } catch (e) {
      if (e instanceof PsaProtocolError) {
        this.log.emit('CW13', { error: errorDetails(e) });
        return;
      }
      readError = errorDetails(e);
    }
    const bySku = new Map<string, CwAddition>();
    for (const a of additions ?? []) {
      const key = (a.product.identifier ?? '').toLowerCase();
      if (key !== '' && !bySku.has(key)) bySku.set(key, a);
    }
    for (const line of customer.lines) {
      const { sku, description: lineDescription } = line;
      const item = this.#catalog.get(sku.toLowerCase());
      if (item && 'error' in item) {
        this.log.emit('CW11', { customerName, lineDescription, error: item.error });
        continue;
      }
      if (!item) {
        this.log.emit('CW06', { customerCode, customerName, lineDescription, sku });
        continue;
      }
      if (!additions) {
        this.log.emit('CW10', { customerCode, lineDescription, sku, error: readError });
        continue;
      }
      const change = { customerCode, customerName, billingId, sku, line: lineDescription };
      const existing = bySku.get(sku.toLowerCase());
      if (!existing) {
        if (line.quantity === 0) continue;
        if (!this.#createAdditions) {
          this.log.emit('CW22', { customerName, lineDescription, sku });
          continue;
        }
        if (await this.#create(agreement, item, line.quantity, customerName, sku, lineDescription)) {
          this.log.emit('CW08', { customerCode, lineDescription, sku });
          this.result.changes.push({ ...change, action: 'create', from: 0, to: line.quantity });
        }
        continue;
      }
      if (existing.quantity === line.quantity) {
        this.log.emit('CW09', { customerCode, lineDescription });
        continue;
      }
      if (!(await this.#update(agreement, existing, line.quantity, customerCode, lineDescription, sku))) continue;
      if (line.quantity === 0) {
        // Zero, not cancel. seed 004 CW20 ("Product has been removed from customer in this period"):
        // "The Quantity is updated from {addition.Quantity} to 0.00", and its resolution row says
        // "The quantity is set as 0 on the addition line. There is no specific action required."
        // psa-wire B.6 suggests cancelledDate as a generic way to stop billing, but the seed is the
        // spec: a cancelled addition drops out of the live-additions lookup, so a product that comes
        // back would log CW22 (or need AllowAtriaCreateAdditions) instead of CW07 on the same line.
        // De-provisioned customers take the same path (their lines arrive with quantity 0).
        this.log.emit('CW20', { customerName, lineDescription, sku, quantity: fixed2(existing.quantity) });
        this.result.changes.push({ ...change, action: 'zero', from: existing.quantity, to: 0 });
      } else {
        this.log.emit('CW07', { customerCode, lineDescription, sku, before: String(existing.quantity), after: String(line.quantity) });
        this.result.changes.push({ ...change, action: 'update', from: existing.quantity, to: line.quantity });
      }
    }
  }

  async #create(agreement: CwAgreement, item: CwCatalogItem, quantity: number, customerName: string, sku: string, description: string): Promise<boolean> {
    if (this.input.dryRun) return true;
    try {
      await this.client.createAddition(agreement.id, {
        product: { id: item.id },
        billCustomer: 'Billable',
        quantity,
        effectiveDate: this.period.startDate,
        description,
      });
      return true;
    } catch (e) {
      if (e instanceof PsaProtocolError) this.log.emit('CW13', { error: errorDetails(e) });
      else this.log.emit('CW12', { customerName, sku, error: errorDetails(e) });
      return false;
    }
  }

  async #update(agreement: CwAgreement, addition: CwAddition, quantity: number, customerCode: string, lineDescription: string, sku: string): Promise<boolean> {
    if (this.input.dryRun) return true;
    try {
      await this.client.updateAdditionQuantity(agreement.id, addition.id, quantity);
      return true;
    } catch (e) {
      if (e instanceof PsaProtocolError) this.log.emit('CW13', { error: errorDetails(e) });
      else this.log.emit('CW10', { customerCode, lineDescription, sku, error: errorDetails(e) });
      return false;
    }
  }

  /** Companies by identifier and their active agreement of the configured type, a few calls per batch. */
  async #loadBatch(customers: SyncCustomer[]): Promise<Batch> {
    const ids = [...new Set(customers.map((c) => c.billingId!))];
    const companies = await this.client.list<CwCompany>('company/companies', {
      conditions: anyOf(...ids.map((id) => condition('identifier', '=', id))),
      fields: 'id,identifier,name',
    });
    const byId = new Map(companies.map((c) => [c.identifier.toLowerCase(), c]));
    const agreements = new Map<string, CwAgreement>();
    if (companies.length) {
      const found = await this.client.list<CwAgreement>('finance/agreements', {
        conditions: allOf(
          condition('type/name', '=', this.input.params.AgreementType.trim()),
          condition('agreementStatus', '=', 'Active'),
          anyOf(...companies.map((c) => condition('company/identifier', '=', c.identifier))),
        ),
        orderBy: 'id asc',
      });
      // Several agreements of the type: the lowest id, so every run picks the same one.
      for (const a of found) {
        const key = (a.company.identifier ?? '').toLowerCase();
        if (!agreements.has(key)) agreements.set(key, a);
      }
    }
    return { companies: byId, agreements };
  }

  /** Active catalog items for SKUs not seen yet; a failed lookup is remembered per SKU and logged per line (CW11). */
  async #loadCatalog(customers: SyncCustomer[]): Promise<void> {
    // A lookup that failed for an earlier batch is tried again rather than failing every later line.
    for (const [key, value] of this.#catalog) if (value && 'error' in value) this.#catalog.delete(key);
    const wanted = [...new Set(customers.flatMap((c) => c.lines.map((l) => l.sku)))].filter((s) => !this.#catalog.has(s.toLowerCase()));
    for (const part of chunks(wanted, CUSTOMER_BATCH)) {
      try {
        const items = await this.client.list<CwCatalogItem>('procurement/catalog', {
          conditions: allOf(condition('inactiveFlag', '=', false), anyOf(...part.map((s) => condition('identifier', '=', s)))),
        });
        const byKey = new Map(items.map((i) => [i.identifier.toLowerCase(), i]));
        for (const s of part) this.#catalog.set(s.toLowerCase(), byKey.get(s.toLowerCase()) ?? null);
      } catch (e) {
        for (const s of part) this.#catalog.set(s.toLowerCase(), { error: errorDetails(e) });
      }
    }
  }
}
