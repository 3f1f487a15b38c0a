import { CallCounter } from '../shared/call-counter.js';
import { isHttpStatus, PsaProtocolError } from '../shared/errors.js';
import { PsaHttp, type PsaRequest, type PsaResponse, type PsaTransportOptions } from '../shared/http.js';
import { allOf, condition } from './conditions.js';
import type {
  CwAddition,
  CwAdditionInput,
  CwAgreement,
  CwAgreementStatus,
  CwAgreementType,
  CwCatalogItem,
  CwCompany,
  CwErrorResponse,
  CwPatchOperation,
} from './types.js';

/** Largest page the API serves (psa-wire.md B.3). */
export const MAX_PAGE_SIZE = 1000;

/** Codebase used when ApiUrl names only the site (B.1: on-premise and cloud both serve v4_6_release). */
export const DEFAULT_CODEBASE = 'v4_6_release';

/** Sent in `Accept`; connectwise-rest's default is inconsistent, so pin one explicitly (B.7). */
export const DEFAULT_API_VERSION = '2022.1';

const MAX_PAGES = 100_000;

export interface ConnectWiseCredentials {
  /** Secret CompanyName (seed 004): the company id used to log in. */
  companyId: string;
  publicKey: string;
  privateKey: string;
  /** Integration GUID issued by ConnectWise, required on every request since 2019 (B.2). */
  clientId: string;
}

export interface ConnectWiseClientOptions extends ConnectWiseCredentials, PsaTransportOptions {
  /** Job parameter ApiUrl (seed 004): `https://{site}/{codebase}/apis/3.0`, or just `https://{site}`. */
  apiUrl: string;
  /** Codebase appended when ApiUrl has no `/apis/3.0`. */
  codebase?: string;
  apiVersion?: string;
  /** Page size for list calls, at most 1000. */
  pageSize?: number;
}

/** Standard list parameters (B.3). */
export interface CwListParams {
  conditions?: string;
  childConditions?: string;
  customFieldConditions?: string;
  orderBy?: string;
  fields?: string;
}

export interface AdditionFilter {
  /** Only additions for this catalog identifier (the SKU). */
  productIdentifier?: string;
  /** Include additions whose cancelledDate is today or earlier. Default false. */
  includeCancelled?: boolean;
  /** Day the cancelled check is made against. Default now. */
  asOf?: Date;
}

/** ConnectWise Manage REST 3.0 client for companies, agreements, additions and the catalog (psa-wire.md part B). */
export class ConnectWiseClient {
  readonly baseUrl: string;
  readonly #options: ConnectWiseClientOptions;
  readonly #http: PsaHttp;
  readonly #pageSize: number;

  constructor(options: ConnectWiseClientOptions) {
    this.#options = options;
    this.baseUrl = normaliseApiUrl(options.apiUrl, options.codebase ?? DEFAULT_CODEBASE);
    this.#pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? MAX_PAGE_SIZE));
    this.#http = new PsaHttp({
      vendor: 'connectwise',
      errorMessages: connectWiseErrorMessages,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      counter: options.counter,
      sleep: options.sleep,
      onRetry: options.onRetry,
    });
  }

  /** Every HTTP request sent by this client, retries included. */
  get counter(): CallCounter {
    return this.#http.counter;
  }

  // ---- generic operations (B.3, B.4) -------------------------------------------------

  /** GETs every page of a list endpoint. */
  async list<T>(path: string, params: CwListParams = {}): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.listPages<T>(path, params)) items.push(...page);
    return items;
  }

  /**
   * Yields pages of a list endpoint (bare JSON arrays, B.3). Stops when the `Link` header
   * has no rel="next", or, when the server sends no Link header, on a short page as
   * connectwise-rest does (B.7). Page numbers are built here, never taken from the header,
   * so credentials only go to `baseUrl`.
   */
  async *listPages<T>(path: string, params: CwListParams = {}): AsyncGenerator<T[]> {
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const query = { ...params, page: String(page), pageSize: String(this.#pageSize) };
      const res = await this.#send({ method: 'GET', path, query, operation: `GET ${templatePath(path)}`, idempotent: true });
      if (!Array.isArray(res.body)) throw new PsaProtocolError('connectwise', `${path} did not return an array`);
      yield res.body as T[];
      if (!hasNextPage(res, res.body.length, this.#pageSize)) return;
    }
    throw new PsaProtocolError('connectwise', `${path} did not end after ${MAX_PAGES} pages`);
  }

  /** `GET {path}/count` with the same conditions (B.3). */
  async count(path: string, conditions?: string): Promise<number> {
    const res = await this.#send({
      method: 'GET',
      path: `${path}/count`,
      query: conditions ? { conditions } : {},
      operation: `GET ${templatePath(path)}/count`,
      idempotent: true,
    });
    return (res.body as { count: number }).count;
  }

  /** `GET {path}`; undefined on 404 (B.5). */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return (await this.#send({ method: 'GET', path, operation: `GET ${templatePath(path)}`, idempotent: true })).body as T;
    } catch (err) {
      if (isHttpStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** `POST {path}`: full object in, created object out. Not retried after a 5xx or timeout: it may exist already. */
  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.#send({ method: 'POST', path, body, operation: `POST ${templatePath(path)}`, idempotent: false })).body as T;
  }

  /** `PATCH {path}` with a JSON-Patch array (B.4). Setting fields to values is idempotent, so it is retried. */
  async patch<T>(path: string, operations: CwPatchOperation[]): Promise<T> {
    return (await this.#send({ method: 'PATCH', path, body: operations, operation: `PATCH ${templatePath(path)}`, idempotent: true }))
      .body as T;
  }

  /** `PUT {path}`: full replacement. */
  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.#send({ method: 'PUT', path, body, operation: `PUT ${templatePath(path)}`, idempotent: true })).body as T;
  }

  // ---- billing entities (B.6) --------------------------------------------------------

  /** Company by its identifier, the Billing Identifier on the Atria customer (seed 004). */
  async findCompanyByIdentifier(identifier: string): Promise<CwCompany | undefined> {
    return (await this.list<CwCompany>('company/companies', { conditions: condition('identifier', '=', identifier) }))[0];
  }

  /** Agreement type by name, to validate the AgreementType job parameter (seed 004, CW21). */
  async findAgreementType(name: string): Promise<CwAgreementType | undefined> {
    return (await this.list<CwAgreementType>('finance/agreements/types', { conditions: condition('name', '=', name) }))[0];
  }

  /**
   * A company's agreements, optionally of one type (seed 004 AgreementType) and status,
   * lowest id first (B.6 "Typical lookup").
   */
  listAgreements(companyIdentifier: string, filter: { typeName?: string; status?: CwAgreementStatus } = {}): Promise<CwAgreement[]> {
    const conditions = allOf(
      condition('company/identifier', '=', companyIdentifier),
      filter.typeName === undefined ? undefined : condition('type/name', '=', filter.typeName),
      filter.status === undefined ? undefined : condition('agreementStatus', '=', filter.status),
    );
    return this.list<CwAgreement>('finance/agreements', { conditions, orderBy: 'id asc' });
  }

  /**
   * Additions of an agreement. Cancelled lines are dropped on this side, because whether
   * `cancelledDate = null` matches in conditions is unconfirmed (B.6).
   */
  async listAdditions(agreementId: number, filter: AdditionFilter = {}): Promise<CwAddition[]> {
    const conditions = filter.productIdentifier === undefined ? undefined : condition('product/identifier', '=', filter.productIdentifier);
    const additions = await this.list<CwAddition>(additionsPath(agreementId), { ...(conditions ? { conditions } : {}), orderBy: 'id asc' });
    if (filter.includeCancelled) return additions;
    const today = (filter.asOf ?? new Date()).toISOString().slice(0, 10);
    return additions.filter((a) => !isCancelledBy(a, today));
  }

  /** The live addition for a product on an agreement, lowest id first when there are several. */
  async findActiveAddition(agreementId: number, productIdentifier: string, asOf?: Date): Promise<CwAddition | undefined> {
    return (await this.listAdditions(agreementId, { productIdentifier, asOf }))[0];
  }

  /** POSTs a new addition (seed 004 AllowAtriaCreateAdditions; B.6). */
  createAddition(agreementId: number, input: CwAdditionInput): Promise<CwAddition> {
    const body = { ...input, ...(input.effectiveDate === undefined ? {} : { effectiveDate: formatCwDate(input.effectiveDate) }) };
    return this.post<CwAddition>(additionsPath(agreementId), body);
  }

  /** Sets an addition's quantity with `[{op:"replace",path:"quantity",value}]` (B.6). */
  updateAdditionQuantity(agreementId: number, additionId: number, quantity: number): Promise<CwAddition> {
    return this.patch<CwAddition>(`${additionsPath(agreementId)}/${additionId}`, [{ op: 'replace', path: 'quantity', value: quantity }]);
  }

  /** Stops billing a line by setting cancelledDate rather than deleting it, so history is kept (B.6). */
  cancelAddition(agreementId: number, additionId: number, cancelledDate: Date | string): Promise<CwAddition> {
    return this.patch<CwAddition>(`${additionsPath(agreementId)}/${additionId}`, [
      { op: 'replace', path: 'cancelledDate', value: formatCwDate(cancelledDate) },
    ]);
  }

  /** PUTs a whole addition (B.4). Prefer the PATCH helpers for partial changes. */
  replaceAddition(agreementId: number, addition: CwAddition): Promise<CwAddition> {
    return this.put<CwAddition>(`${additionsPath(agreementId)}/${addition.id}`, addition);
  }

  /** Catalog item by identifier, the SKU on the Atria product (seed 004; B.6 lookup). Inactive items are skipped by default. */
  async findCatalogItem(identifier: string, options: { includeInactive?: boolean } = {}): Promise<CwCatalogItem | undefined> {
    const conditions = allOf(
      condition('identifier', '=', identifier),
      options.includeInactive ? undefined : condition('inactiveFlag', '=', false),
    );
    return (await this.list<CwCatalogItem>('procurement/catalog', { conditions }))[0];
  }

  // ---- plumbing ----------------------------------------------------------------------

  async #send(
    req: Omit<PsaRequest, 'url' | 'headers'> & { path: string; query?: Record<string, string | undefined> },
  ): Promise<PsaResponse> {
    const url = new URL(`${this.baseUrl}/${req.path}`);
    for (const [key, value] of Object.entries(req.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    return this.#http.send({ ...req, url: url.toString(), headers: this.#headers() });
  }

  /** B.2: Basic auth with `company+publicKey:privateKey`, the clientId header, and a pinned version. */
  #headers(): Record<string, string> {
    const { companyId, publicKey, privateKey, clientId } = this.#options;
    return {
      Authorization: `Basic ${Buffer.from(`${companyId}+${publicKey}:${privateKey}`).toString('base64')}`,
      clientId,
      Accept: `application/vnd.connectwise.com+json; version=${this.#options.apiVersion ?? DEFAULT_API_VERSION}, application/json`,
      'Cache-Control': 'no-cache',
    };
  }
}

/** Messages from `{ code, message, errors: [{ message }] }` (B.5), or a text body. */
export function connectWiseErrorMessages(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() === '' ? [] : [body.trim()];
  if (typeof body !== 'object' || body === null) return [];
  const res = body as Partial<CwErrorResponse>;
  const messages = typeof res.message === 'string' ? [res.message] : [];
  for (const e of Array.isArray(res.errors) ? res.errors : []) {
    if (typeof e?.message === 'string') messages.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  return messages;
}

/** `https://site` → `https://site/{codebase}/apis/3.0`; a URL already ending in `/apis/3.0` is kept (B.1). */
export function normaliseApiUrl(apiUrl: string, codebase: string = DEFAULT_CODEBASE): string {
  const url = new URL(apiUrl);
  const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (/\/apis\/3\.0$/i.test(path)) return `${url.origin}${path}`;
  return `${url.origin}${path}/${codebase}/apis/3.0`;
}

/** ConnectWise datetimes are UTC ISO strings; date-only input becomes midnight UTC. */
export function formatCwDate(value: Date | string): string {
  const day = typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a date: ${String(value)}`);
  return `${day}T00:00:00Z`;
}

function additionsPath(agreementId: number): string {
  return `finance/agreements/${agreementId}/additions`;
}

function isCancelledBy(addition: CwAddition, day: string): boolean {
  return typeof addition.cancelledDate === 'string' && addition.cancelledDate !== '' && addition.cancelledDate.slice(0, 10) <= day;
}

function hasNextPage(res: PsaResponse, count: number, pageSize: number): boolean {
  // An empty page ends paging whatever the Link header claims.
  if (count === 0) return false;
  const link = res.headers.get('link');
  if (link !== null) return /rel="?next"?/i.test(link);
  return count >= pageSize;
}

/** Numeric ids become `{id}` so the call counter groups calls by endpoint. */
function templatePath(path: string): string {
  return path.replace(/\/\d+(?=\/|$)/g, '/{id}');
}
