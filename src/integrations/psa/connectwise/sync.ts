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
  lineKey,
  parseFlag,
  splitDeprovisioned,
  type SyncCustomer,
  type SyncLogSink,
  type SyncResult,
} from '../shared/sync-model.js';
import { type SyncPeriod, type SyncQuantitySource } from '../shared/sync-source.js';
import { requiredSecrets, syncCustomers, syncPeriod } from '../shared/sync-preamble.js';
import { ConnectWiseClient, type ConnectWiseClientOptions } from './client.js';
import { allOf, anyOf, condition } from './conditions.js';
import { CW_CODES } from './sync-codes.js';
import { dataProblems, mappedId, ProblemsByKey, type DataProblem } from '../shared/data-check.js';
import type { CwAddition, CwAgreement, CwCatalogItem, CwCompany } from './types.js';

/** Job parameters of the "ConnectWise Manage Billing" task (seed 004), after defaults. */
export interface ConnectWiseSyncParameters {
  ApiUrl: string;
  AgreementType: string;
  AllowAtriaCreateAdditions: string | boolean;
  BillingPeriod: string;
  CustomersFilter: string | string[];
  /** True: a run computes and stores the diff and waits for approval before writing (issue 11 §7). */
  RequireApproval: string | boolean;
  /** True: a reseller's agreement gets one addition per billed customer and product instead of one summed addition (issue 11 §5). */
  ResellerLinesPerCustomer: string | boolean;
}

export const CONNECTWISE_DEFAULTS: ConnectWiseSyncParameters = {
  ApiUrl: '',
  AgreementType: 'Cloud and Hosting Services',
  AllowAtriaCreateAdditions: 'False',
  BillingPeriod: 'Current',
  CustomersFilter: '',
  RequireApproval: 'False',
  ResellerLinesPerCustomer: 'False',
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
  /** Keys (changeKey) of an approved diff: only those changes are written. */
  approved?: ReadonlySet<string>;
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

  const scope = await syncCustomers(
    input.source,
    period,
    p.CustomersFilter,
    { perCustomer: parseFlag(p.ResellerLinesPerCustomer) },
    {
      failed: (e) => log.emit('CW03', { error: errorDetails(e) }),
    },
  );
  if (!scope) return finish(true);
  const { customers } = scope;
  if (customers.length === 0) {
    log.emit('CW15', { invoiceDate: period.endDate });
    return finish(false);
  }
  const run = new ConnectWiseRun(client, log, input, period, result, scope.managedSkus);
  // De-provisioned customers last, every line reduced to zero (CW20), as the Autotask sync does.
  const { active, deprovisioned } = splitDeprovisioned(customers);
  await run.process(active);
  await run.process(deprovisioned);
  return finish(false);
}

/** The agreement chosen for a customer and the candidates it was chosen from, or the data problems that prevent a choice. */
type AgreementChoice = { agreement: CwAgreement; candidates: CwAgreement[] } | { problems: readonly DataProblem[] } | undefined;

interface Batch {
  companies: Map<string, CwCompany>;
  /** Unusable company records, by the identifier they would match. */
  companyProblems: ProblemsByKey<string>;
  /** By customer id. */
  choices: Map<number, AgreementChoice>;
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
    /** SKUs Tenantry manages (lower case): additions of other products are never touched. */
    private readonly managed: ReadonlySet<string>,
  ) {
    this.#createAdditions = parseFlag(input.params.AllowAtriaCreateAdditions);
  }

  async process(customers: SyncCustomer[]): Promise<void> {
    for (const c of customers) if (c.billingId === null) this.log.emit('CW04', { customerCode: c.code, customerName: c.name });
    for (const group of chunks(
      customers.filter((c) => c.billingId !== null),
      CUSTOMER_BATCH,
    )) {
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
    if (this.#badData(customer, batch.companyProblems.get(billingId.toLowerCase()))) return;
    const choice = batch.choices.get(customer.customerId);
    if (choice && 'problems' in choice) {
      this.#badData(customer, choice.problems);
      return;
    }
    if (!choice) {
      this.log.emit('CW14', { customerName, customerAccountCode: billingId, agreementType: this.input.params.AgreementType });
      return;
    }
    const { agreement } = choice;
    if (choice.candidates.length > 1) {
      this.log.emit('CW25', {
        customerName,
        agreementType: this.input.params.AgreementType.trim(),
        candidates: choice.candidates.map(describeAgreement).join(', '),
        chosen: describeAgreement(agreement),
      });
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
    if (additions) {
      const bad = additions.flatMap((a) =>
        dataProblems('Addition', a as unknown as Record<string, unknown>, {
          id: 'number',
          'product/identifier': 'string',
          quantity: 'number',
        }),
      );
      if (this.#badData(customer, bad)) return;
    }
    // One addition per product, and per customer for per-customer reseller lines (marked in the description, issue 11 §5).
    const byLine = new Map<string, CwAddition>();
    for (const a of additions ?? []) {
      const sku = a.product.identifier ?? '';
      const key = lineKey(sku, billedForKey(a.description));
      if (sku !== '' && !byLine.has(key)) byLine.set(key, a);
    }
    /** Additions this customer's billed lines matched: every other managed addition is reconciled to 0. */
    const kept = new Set<CwAddition>();
    for (const line of customer.lines) {
      const { sku, description: lineDescription } = line;
      const billedFor = line.billedFor?.code ?? '';
      const existing = byLine.get(lineKey(sku, billedFor));
      if (existing) kept.add(existing);
      // A SKU billed earlier in the period only: its addition is reconciled below, no warning when there is none.
      if (line.quantity === 0 && !existing) continue;
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
      const change = { customerCode, customerName, billingId, sku, line: lineDescription, ...(billedFor ? { billedFor } : {}) };
      if (!existing) {
        if (line.quantity === 0) continue;
        if (!this.#createAdditions) {
          this.log.emit('CW22', { customerName, lineDescription, sku });
          continue;
        }
        if (await this.#create(agreement, item, line.quantity, customerName, sku, lineDescription, billingId, billedFor)) {
          this.log.emit('CW08', { customerCode, lineDescription, sku });
          this.result.changes.push({ ...change, action: 'create', from: 0, to: line.quantity });
        }
        continue;
      }
      if (existing.quantity === line.quantity) {
        this.log.emit('CW09', { customerCode, lineDescription });
        continue;
      }
      if (!(await this.#update(agreement, existing, line.quantity, customerCode, lineDescription, sku, billingId, billedFor))) continue;
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
    if (additions) await this.#zeroUnbilled(customer, agreement, additions, kept);
  }

  /**
   * Reconcile, don't replay (issue 11 §1): every addition of a managed product that is not the one
   * line Tenantry keeps per billed SKU (added by hand, a duplicate, or a SKU Tenantry no longer
   * bills this customer for) goes to 0 (CW20). Additions of other products are never touched.
   */
  async #zeroUnbilled(
    customer: SyncCustomer,
    agreement: CwAgreement,
    additions: readonly CwAddition[],
    kept: ReadonlySet<CwAddition>,
  ): Promise<void> {
    for (const addition of additions) {
      const sku = addition.product.identifier ?? '';
      if (kept.has(addition) || !this.managed.has(sku.toLowerCase()) || addition.quantity === 0) continue;
      const lineDescription = addition.description ?? sku;
      // A per-customer addition (issue 11 §5) of a customer no longer billed here, or from before the parameter was turned off.
      const billedFor = billedForKey(addition.description);
      if (!(await this.#update(agreement, addition, 0, customer.code, lineDescription, sku, customer.billingId!, billedFor))) continue;
      this.log.emit('CW20', { customerName: customer.name, lineDescription, sku, quantity: fixed2(addition.quantity) });
      this.result.changes.push({
        customerCode: customer.code,
        customerName: customer.name,
        billingId: customer.billingId!,
        sku,
        line: lineDescription,
        action: 'zero',
        from: addition.quantity,
        to: 0,
        ...(billedFor ? { billedFor } : {}),
      });
    }
  }

  /** An approved run writes only the approved changes (issue 11 §7). */
  #approved(agreementCompany: string, sku: string, from: number, to: number, billedFor: string): boolean {
    return !this.input.approved || this.input.approved.has(changeKey({ billingId: agreementCompany, sku, from, to, billedFor }));
  }

  async #create(
    agreement: CwAgreement,
    item: CwCatalogItem,
    quantity: number,
    customerName: string,
    sku: string,
    description: string,
    billingId: string,
    billedFor: string,
  ): Promise<boolean> {
    if (!this.#approved(billingId, sku, 0, quantity, billedFor)) return false;
    if (this.input.dryRun) return true;
    try {
      await this.client.createAddition(agreement.id, {
        product: { id: item.id },
        billCustomer: 'Billable',
        quantity,
        effectiveDate: this.period.startDate,
        description,
        // A per-customer line names its customer on the invoice too.
        ...(billedFor ? { invoiceDescription: description } : {}),
      });
      return true;
    } catch (e) {
      if (e instanceof PsaProtocolError) this.log.emit('CW13', { error: errorDetails(e) });
      else this.log.emit('CW12', { customerName, sku, error: errorDetails(e) });
      return false;
    }
  }

  async #update(
    agreement: CwAgreement,
    addition: CwAddition,
    quantity: number,
    customerCode: string,
    lineDescription: string,
    sku: string,
    billingId: string,
    billedFor: string,
  ): Promise<boolean> {
    if (!this.#approved(billingId, sku, addition.quantity, quantity, billedFor)) return false;
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

  /** Companies by identifier and their active agreements of the configured type, a few calls per batch. */
  async #loadBatch(customers: SyncCustomer[]): Promise<Batch> {
    const ids = [...new Set(customers.map((c) => c.billingId!))];
    const found = await this.client.list<CwCompany>('company/companies', {
      conditions: anyOf(...ids.map((id) => condition('identifier', '=', id))),
      fields: 'id,identifier,name',
    });
    const companies = new Map<string, CwCompany>();
    const companyProblems = new ProblemsByKey<string>();
    for (const c of found) {
      const bad = dataProblems('Company', c as unknown as Record<string, unknown>, { id: 'number', identifier: 'string' });
      if (bad.length)
        ids
          .filter((id) => String(c.identifier ?? c.id).toLowerCase() === id.toLowerCase())
          .forEach((id) => companyProblems.add(id.toLowerCase(), bad));
      else companies.set(c.identifier.toLowerCase(), c);
    }
    const agreementsOf = new Map<string, CwAgreement[]>();
    const agreementProblems = new ProblemsByKey<string>();
    if (companies.size) {
      const agreements = await this.client.list<CwAgreement>('finance/agreements', {
        conditions: allOf(
          condition('type/name', '=', this.input.params.AgreementType.trim()),
          condition('agreementStatus', '=', 'Active'),
          anyOf(...[...companies.values()].map((c) => condition('company/identifier', '=', c.identifier))),
        ),
        orderBy: 'id asc',
      });
      for (const a of agreements) {
        const key = (a.company?.identifier ?? '').toLowerCase();
        if (key === '') continue;
        agreementsOf.set(key, [...(agreementsOf.get(key) ?? []), a]);
        agreementProblems.add(
          key,
          dataProblems('Agreement', a as unknown as Record<string, unknown>, { id: 'number', startDate: 'date?' }),
        );
      }
    }
    const choices = new Map<number, AgreementChoice>();
    for (const customer of customers) {
      const key = customer.billingId!.toLowerCase();
      if (companies.has(key))
        choices.set(customer.customerId, chooseAgreement(customer, agreementsOf.get(key) ?? [], agreementProblems.get(key)));
    }
    return { companies, companyProblems, choices };
  }

  /** Logs each problem (CW24) and says whether there were any: a customer with unusable PSA data is skipped, the run goes on. */
  #badData(customer: SyncCustomer, problems: readonly DataProblem[]): boolean {
    for (const p of problems) this.log.emit('CW24', { customerName: customer.name, ...p });
    return problems.length > 0;
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

/**
 * The agreement a customer's additions go to (issue 11 §6): the customer's PsaAgreementId when set
 * (it must be an active agreement of the type for the company), otherwise the one with the latest
 * start date, then the lowest id.
 */
function chooseAgreement(customer: SyncCustomer, agreements: CwAgreement[], problems: readonly DataProblem[]): AgreementChoice {
  const mapped = mappedId(customer.psaAgreementId, 'PsaAgreementId');
  if (mapped !== undefined && typeof mapped !== 'number') return { problems: [mapped] };
  if (typeof mapped === 'number') {
    const agreement = agreements.find((a) => a.id === mapped);
    if (!agreement)
      return {
        problems: [
          {
            entity: 'Customer property',
            id: 'PsaAgreementId',
            field: 'PsaAgreementId',
            value: `${mapped} (not an active agreement of the type for company ${customer.billingId})`,
          },
        ],
      };
    return { agreement, candidates: [agreement] };
  }
  if (problems.length) return { problems };
  const candidates = [...agreements].sort(
    (a, b) => (b.startDate ?? '').slice(0, 10).localeCompare((a.startDate ?? '').slice(0, 10)) || a.id - b.id,
  );
  return candidates.length ? { agreement: candidates[0]!, candidates } : undefined;
}

function describeAgreement(a: CwAgreement): string {
  return `${a.id} "${a.name}"${a.startDate ? ` from ${a.startDate.slice(0, 10)}` : ''}`;
}
