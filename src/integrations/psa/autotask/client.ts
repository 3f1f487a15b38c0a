import { CallCounter } from '../shared/call-counter.js';
import { isHttpStatus, PsaProtocolError } from '../shared/errors.js';
import { chunks } from '../shared/sync-model.js';
import { PsaHttp, type PsaRequest, type PsaTransportOptions } from '../shared/http.js';
import { MAX_RECORDS, where, type AtFilter, type AtQuery } from './filter.js';
import {
  RECURRING_SERVICE_CONTRACT_TYPE,
  type AtCompany,
  type AtContract,
  type AtContractService,
  type AtContractServiceAdjustmentInput,
  type AtContractServiceInput,
  type AtContractServiceUnit,
  type AtOperationResult,
  type AtQueryResponse,
  type AtService,
  type AtThresholdInformation,
  type AtZoneInformation,
} from './types.js';

/** Zone lookup host; any zone host also answers (psa-wire.md A.1). */
export const DEFAULT_ZONE_LOOKUP_URL = 'https://webservices.autotask.net/atservicesrest/';

/** Version segment appended to the REST root (A.1). */
const VERSION = 'V1.0';

/** Guards against a server that keeps returning a nextPageUrl. */
const MAX_PAGES = 10_000;

export interface AutotaskCredentials {
  /** API-only user's username (an email address). */
  userName: string;
  secret: string;
  /** Tracking identifier of the integration, sent as `ApiIntegrationCode`. */
  integrationCode: string;
}

export interface AutotaskClientOptions extends AutotaskCredentials, PsaTransportOptions {
  /** Job parameter BaseUrl (seed 003): REST root, with or without `V1.0`. When set, zone discovery is skipped. */
  baseUrl?: string;
  /** Job parameter ZoneUser (seed 003): email used for zone discovery. Defaults to `userName`. */
  zoneUser?: string;
  /** Where zone discovery is sent. Defaults to the global Autotask host. */
  zoneLookupUrl?: string;
  /** Optional `ImpersonationResourceId` header (A.2). */
  impersonationResourceId?: number;
}

/** Service fields a SKU can map to (seed 003, "Setup Product Mapping": ServiceID, Name, InvoiceDescription, description). */
export type ServiceMatchField = 'name' | 'invoiceDescription' | 'description';

/** Autotask REST v1.0 client for the recurring-billing entities (psa-wire.md part A). */
export class AutotaskClient {
  readonly #options: AutotaskClientOptions;
  readonly #http: PsaHttp;
  #root: string | undefined;
  /** Learned on the first 405: whether nextPageUrl must be fetched with GET (A.4). */
  #nextPageVerb: 'POST' | 'GET' = 'POST';

  constructor(options: AutotaskClientOptions) {
    this.#options = options;
    this.#root = options.baseUrl ? normaliseRestRoot(options.baseUrl) : undefined;
    this.#http = new PsaHttp({
      vendor: 'autotask',
      errorMessages: autotaskErrorMessages,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      counter: options.counter,
      sleep: options.sleep,
      onRetry: options.onRetry,
    });
  }

  /** Every HTTP request sent by this client, retries and zone discovery included. */
  get counter(): CallCounter {
    return this.#http.counter;
  }

  // ---- zone and metadata -------------------------------------------------------------

  /** `GET zoneInformation?user=` (A.1). Sent without credentials: the lookup needs none. */
  async zoneInformation(user: string = this.#options.zoneUser ?? this.#options.userName): Promise<AtZoneInformation> {
    const lookupRoot = normaliseRestRoot(this.#options.zoneLookupUrl ?? DEFAULT_ZONE_LOOKUP_URL);
    const res = await this.#http.send({
      method: 'GET',
      url: `${lookupRoot}${VERSION}/zoneInformation?user=${encodeURIComponent(user)}`,
      operation: 'GET zoneInformation',
      idempotent: true,
    });
    const zone = res.body as Partial<AtZoneInformation> | undefined;
    // A lookup that returns no url means the user is not an API user (A.1, client-observed).
    if (!zone || typeof zone.url !== 'string' || zone.url === '') {
      throw new PsaProtocolError('autotask', `zone lookup returned no url for the user; is it an API-only user?`);
    }
    return zone as AtZoneInformation;
  }

  /** The REST root (no version), from BaseUrl or from zone discovery, cached after the first call. */
  async restRoot(): Promise<string> {
    this.#root ??= normaliseRestRoot((await this.zoneInformation()).url);
    return this.#root;
  }

  /** `GET /V1.0/ThresholdInformation` (A.1, A.7): the tenant's usage of its hourly request budget. */
  async thresholdInformation(): Promise<AtThresholdInformation> {
    const res = await this.#send({ method: 'GET', path: 'ThresholdInformation', operation: 'GET ThresholdInformation', idempotent: true });
    return res.body as AtThresholdInformation;
  }

  // ---- generic entity operations (A.3, A.4, A.8) ------------------------------------

  /** `GET /{E}/{id}`. Undefined when missing: the API may answer 404 or `{item:null}` (A.3). */
  async get<T>(entity: string, id: number): Promise<T | undefined> {
    try {
      const res = await this.#send({ method: 'GET', path: `${entity}/${id}`, operation: `GET ${entity}/{id}`, idempotent: true });
      return ((res.body as { item?: T | null } | undefined)?.item ?? undefined) as T | undefined;
    } catch (err) {
      if (isHttpStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Runs a query and returns every page's items, following `pageDetails.nextPageUrl` (A.4). */
  async query<T>(entity: string, filter: AtFilter[], options: { includeFields?: string[] } = {}): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.queryPages<T>(entity, filter, options)) items.push(...page);
    return items;
  }

  /** Yields one page of items at a time. Pages hold at most 500 records (A.4). */
  async *queryPages<T>(entity: string, filter: AtFilter[], options: { includeFields?: string[] } = {}): AsyncGenerator<T[]> {
    const body: AtQuery = { filter, maxRecords: MAX_RECORDS, ...(options.includeFields ? { includeFields: options.includeFields } : {}) };
    let res = await this.#send({ method: 'POST', path: `${entity}/query`, body, operation: `POST ${entity}/query`, idempotent: true });
    for (let page = 1; ; page += 1) {
      const parsed = parseQueryResponse<T>(res.body, entity);
      yield parsed.items;
      const next = parsed.pageDetails.nextPageUrl;
      if (!next) return;
      if (page >= MAX_PAGES) throw new PsaProtocolError('autotask', `${entity} query did not end after ${MAX_PAGES} pages`);
      res = await this.#fetchNextPage(entity, await this.#checkedNextUrl(next), body);
    }
  }

  /** `POST /{E}/query/count` (A.3). */
  async count(entity: string, filter: AtFilter[]): Promise<number> {
    const res = await this.#send({
      method: 'POST',
      path: `${entity}/query/count`,
      body: { filter },
      operation: `POST ${entity}/query/count`,
      idempotent: true,
    });
    return (res.body as { queryCount: number }).queryCount;
  }

  /** `POST /{E}` create; returns `itemId` (A.3). Not retried after a 5xx or timeout: it may have been applied. */
  async create(entity: string, body: Record<string, unknown>): Promise<number> {
    const res = await this.#send({ method: 'POST', path: entity, body, operation: `POST ${entity}`, idempotent: false });
    return itemIdOf(res.body, entity);
  }

  /** `POST /{Parent}/{parentId}/{Child}`: writes to child entities go through the parent URL (A.8). */
  async createChild(parent: string, parentId: number, child: string, body: Record<string, unknown>): Promise<number> {
    const res = await this.#send({
      method: 'POST',
      path: `${parent}/${parentId}/${child}`,
      body,
      operation: `POST ${parent}/{id}/${child}`,
      idempotent: false,
    });
    return itemIdOf(res.body, `${parent}/${child}`);
  }

  /** `PATCH /{E}` sparse update; the id travels in the body (A.3). Idempotent, so it is retried. */
  async update(entity: string, body: { id: number } & Record<string, unknown>): Promise<number> {
    const res = await this.#send({ method: 'PATCH', path: entity, body, operation: `PATCH ${entity}`, idempotent: true });
    return itemIdOf(res.body, entity);
  }

  // ---- billing entities (A.9) --------------------------------------------------------

  /** Company by Autotask id: the Account ID stored as the customer's Billing Identifier (seed 003). */
  findCompanyById(id: number): Promise<AtCompany | undefined> {
    return this.get<AtCompany>('Companies', id);
  }

  /** Company by `companyNumber` (seed 003, AT05 "No Company with Customer Number"). */
  async findCompanyByNumber(companyNumber: string): Promise<AtCompany | undefined> {
    return first(await this.query<AtCompany>('Companies', [where.eq('companyNumber', companyNumber)]));
  }

  /** Companies whose `companyName` equals `name` (the API compares case-insensitively). Names are not unique. */
  findCompaniesByName(name: string): Promise<AtCompany[]> {
    return this.query<AtCompany>('Companies', [where.eq('companyName', name)]);
  }

  /** The company's Recurring Service contracts (`contractType` 7, A.9), lowest id first. */
  async listRecurringServiceContracts(companyId: number): Promise<AtContract[]> {
    const contracts = await this.query<AtContract>('Contracts', [
      where.eq('companyID', companyId),
      where.eq('contractType', RECURRING_SERVICE_CONTRACT_TYPE),
    ]);
    return contracts.sort((a, b) => a.id - b.id);
  }

  /**
   * The Recurring Service contract in force on `asOf` (its start/end dates cover the day),
   * lowest id first when several match. Seed 003 warns that several contracts of the same
   * type give inconsistent results; picking the lowest id keeps runs deterministic.
   */
  async findRecurringServiceContract(companyId: number, asOf: Date = new Date()): Promise<AtContract | undefined> {
    const day = formatAutotaskDate(asOf);
    const contracts = await this.listRecurringServiceContracts(companyId);
    return contracts.find((c) => inForceOn(c, day));
  }

  /** The services (lines) on a contract. */
  listContractServices(contractId: number): Promise<AtContractService[]> {
    return this.query<AtContractService>('ContractServices', [where.eq('contractID', contractId)]);
  }

  async findContractService(contractId: number, serviceId: number): Promise<AtContractService | undefined> {
    return first(
      await this.query<AtContractService>('ContractServices', [where.eq('contractID', contractId), where.eq('serviceID', serviceId)]),
    );
  }

  findServiceById(id: number): Promise<AtService | undefined> {
    return this.get<AtService>('Services', id);
  }

  /** Services by id, in `in` chunks of at most 500 values (the OR-condition limit, A.4). */
  async listServicesByIds(ids: readonly number[]): Promise<AtService[]> {
    const unique = [...new Set(ids)];
    const services: AtService[] = [];
    for (const part of chunks(unique, MAX_RECORDS)) services.push(...(await this.query<AtService>('Services', [where.in('id', part)])));
    return services;
  }

  /** Services whose `field` equals `value`, for SKU mappings other than ServiceID (seed 003). */
  findServicesBy(field: ServiceMatchField, value: string): Promise<AtService[]> {
    return this.query<AtService>('Services', [where.eq(field, value)]);
  }

  /** Every per-period unit record of a contract service (read-only entity, A.9). */
  listContractServiceUnits(contractServiceId: number): Promise<AtContractServiceUnit[]> {
    return this.query<AtContractServiceUnit>('ContractServiceUnits', [where.eq('contractServiceID', contractServiceId)]);
  }

  /**
   * Units in force on `asOf` (A.9 step 3: `startDate lte D` and `endDate gte D`).
   * Undefined when no unit record covers the day (for example outside the contract dates).
   */
  async unitsInForce(contractServiceId: number, asOf: Date = new Date()): Promise<number | undefined> {
    const day = formatAutotaskDate(asOf);
    const records = await this.query<AtContractServiceUnit>('ContractServiceUnits', [
      where.eq('contractServiceID', contractServiceId),
      where.lte('startDate', day),
      where.gte('endDate', day),
    ]);
    // Records should not overlap; if they do, the one that started last is the one in force.
    const latest = records.sort((a, b) => b.startDate.localeCompare(a.startDate))[0];
    return latest?.units;
  }

  /**
   * Changes a contract service's units by `unitChange` from `effectiveDate` (A.9): the only
   * way to change a quantity. Posted through the contract's child URL (A.8). Never retried
   * after a 5xx or timeout, since a repeat would apply the delta twice.
   */
  createContractServiceAdjustment(input: AtContractServiceAdjustmentInput): Promise<number> {
    const body = { id: 0, ...input, effectiveDate: formatAutotaskDate(input.effectiveDate) };
    return this.createChild('Contracts', input.contractID, 'ServiceAdjustments', body);
  }

  /** Adds a service line with no units to a Recurring Service contract (A.9; seed 003 AllowAtriaCreateItems). */
  createContractService(input: AtContractServiceInput): Promise<number> {
    return this.createChild('Contracts', input.contractID, 'Services', { ...input });
  }

  // ---- plumbing ----------------------------------------------------------------------

  async #send(req: Omit<PsaRequest, 'url' | 'headers'> & { path: string }): Promise<Awaited<ReturnType<PsaHttp['send']>>> {
    const root = await this.restRoot();
    return this.#http.send({ ...req, url: `${root}${VERSION}/${req.path}`, headers: this.#authHeaders() });
  }

  /** Auth headers on every call except zone lookup (A.2). */
  #authHeaders(): Record<string, string> {
    const headers: Record<string, string> = {
      ApiIntegrationCode: this.#options.integrationCode,
      UserName: this.#options.userName,
      Secret: this.#options.secret,
    };
    if (this.#options.impersonationResourceId !== undefined) {
      headers.ImpersonationResourceId = String(this.#options.impersonationResourceId);
    }
    return headers;
  }

  /**
   * nextPageUrl is opaque; clients disagree on its verb (A.4, unconfirmed). POST the same
   * body first and fall back to GET on 405, remembering the answer for later pages.
   */
  async #fetchNextPage(entity: string, url: string, body: AtQuery): Promise<Awaited<ReturnType<PsaHttp['send']>>> {
    const base = { url, headers: this.#authHeaders(), idempotent: true } as const;
    if (this.#nextPageVerb === 'POST') {
      try {
        return await this.#http.send({ ...base, method: 'POST', body, operation: `POST ${entity}/query/next` });
      } catch (err) {
        if (!isHttpStatus(err, 405)) throw err;
        this.#nextPageVerb = 'GET';
      }
    }
    return this.#http.send({ ...base, method: 'GET', operation: `GET ${entity}/query/next` });
  }

  /** Credentials are only sent to the zone the client resolved, never to another host named in a body. */
  async #checkedNextUrl(next: string): Promise<string> {
    const root = new URL(await this.restRoot());
    const url = new URL(next, root);
    if (url.origin !== root.origin) {
      throw new PsaProtocolError('autotask', `nextPageUrl points to another host (${url.origin})`);
    }
    return url.toString();
  }
}

/** Whether a record's start/end dates cover `day` (both inclusive; only the date part of each is compared). */
export function inForceOn(record: { startDate: string; endDate: string }, day: string): boolean {
  const d = day.slice(0, 10);
  return record.startDate.slice(0, 10) <= d && record.endDate.slice(0, 10) >= d;
}

/** `{ errors: ["..."] }` (A.6); 401/403 may be plain text. */
export function autotaskErrorMessages(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() === '' ? [] : [body.trim()];
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.map(String) : [];
}

/**
 * Normalises a REST root to `https://host/atservicesrest/`: drops a trailing version
 * segment, collapses double slashes (A.1, client-observed), appends `atservicesrest/` to a bare host.
 */
export function normaliseRestRoot(raw: string): string {
  const url = new URL(raw);
  let path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  path = path.replace(/\/v1\.0$/i, '');
  if (!/\/atservicesrest$/i.test(path)) path = `${path}/atservicesrest`;
  return `${url.origin}${path}/`;
}

/** Date-only values are sent as `yyyy-mm-ddT00:00:00` in UTC (A.5). Accepts a Date or `yyyy-mm-dd...`. */
export function formatAutotaskDate(value: Date | string): string {
  const day = typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a date: ${String(value)}`);
  return `${day}T00:00:00`;
}

function parseQueryResponse<T>(body: unknown, entity: string): AtQueryResponse<T> {
  const res = body as Partial<AtQueryResponse<T>> | undefined;
  if (!res || !Array.isArray(res.items) || typeof res.pageDetails !== 'object' || res.pageDetails === null) {
    throw new PsaProtocolError('autotask', `${entity} query response has no items/pageDetails`);
  }
  return res as AtQueryResponse<T>;
}

function itemIdOf(body: unknown, what: string): number {
  const id = (body as Partial<AtOperationResult> | undefined)?.itemId;
  if (typeof id !== 'number') throw new PsaProtocolError('autotask', `${what} write returned no itemId`);
  return id;
}

function first<T>(items: T[]): T | undefined {
  return items[0];
}
