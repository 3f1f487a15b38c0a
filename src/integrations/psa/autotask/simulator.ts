import { randomBytes } from 'node:crypto';
import { SimServer, SimulatedPsa, type SimReply, type SimRequest } from '../shared/sim-server.js';
import { AtSimError, ciGet, matches, normaliseQuery, project, type AtRecord, type NormalisedQuery } from './sim-query.js';
import { AT_ENTITIES, AutotaskSimState, type AtEntityName } from './sim-state.js';
import { seedAutotaskDemo, type AutotaskDemo } from './sim-demo.js';

/** An API-only user the simulated tenant accepts (psa-wire.md A.2). */
export interface AtSimApiUser {
  userName: string;
  secret: string;
  integrationCode: string;
}

export interface AutotaskSimulatorOptions {
  users?: AtSimApiUser[];
  zoneName?: string;
  /** Requests per rolling hour before the tenant is throttled (A.7: 10,000). */
  hourlyLimit?: number;
  /** Verbs accepted on nextPageUrl. Reports conflict (A.4); restrict to test a client's fallback. */
  nextPageMethods?: ('GET' | 'POST')[];
}

export const DEFAULT_AT_USER: AtSimApiUser = {
  userName: 'atria-api@example.com',
  secret: 'sim-secret',
  integrationCode: 'SIMINTEGRATIONCODE',
};

const HOUR_MS = 3_600_000;

interface PageCursor {
  entity: AtEntityName;
  query: NormalisedQuery;
  offset: number;
}

/**
 * In-process Autotask REST v1.0 (psa-wire.md part C, "Autotask simulator"): zone lookup,
 * header auth with the real failure statuses, the query engine with paging, contract child
 * routes, and adjustments that really change units.
 */
export class AutotaskSimulator extends SimulatedPsa {
  readonly state = new AutotaskSimState();
  protected readonly server: SimServer;
  readonly #users: AtSimApiUser[];
  readonly #options: AutotaskSimulatorOptions;
  readonly #cursors = new Map<string, PageCursor>();
  readonly #requestTimes: number[] = [];
  #origin = '';

  private constructor(options: AutotaskSimulatorOptions) {
    super();
    this.#options = options;
    this.#users = options.users ?? [DEFAULT_AT_USER];
    this.server = new SimServer({ handler: (req) => this.#handle(req), faultBody: (status) => faultBody(status) });
  }

  /** Starts a simulator on 127.0.0.1 with an ephemeral port. */
  static async start(options: AutotaskSimulatorOptions = {}): Promise<AutotaskSimulator> {
    const sim = new AutotaskSimulator(options);
    sim.#origin = await sim.server.start();
    return sim;
  }

  /** Origin, for example `http://127.0.0.1:41234`; pass it as the client's `zoneLookupUrl`. */
  get baseUrl(): string {
    return this.#origin;
  }

  /** The REST root the zone lookup returns; pass it as the client's `baseUrl` to skip discovery. */
  get restRoot(): string {
    return `${this.#origin}/atservicesrest/`;
  }

  /** Seeds sample companies, contracts and services so a sync has something to change. */
  seedDemo(): AutotaskDemo {
    return seedAutotaskDemo(this.state);
  }

  // ---- routing -----------------------------------------------------------------------

  #handle(req: SimRequest): SimReply {
    try {
      return this.#route(req);
    } catch (err) {
      if (err instanceof AtSimError) return { status: err.status, body: { errors: [err.message] } };
      throw err;
    }
  }

  #route(req: SimRequest): SimReply {
    // The path is matched without regard to case; version spelled V1.0 or v1.0 (A.1).
    const match = /^\/atservicesrest\/v1\.0\/(.*)$/i.exec(req.url.pathname.replace(/\/{2,}/g, '/'));
    if (!match) return notFound();
    const segments = match[1].split('/').filter((s) => s !== '');
    if (segments.length === 1 && segments[0].toLowerCase() === 'zoneinformation' && req.method === 'GET') {
      return this.#zoneInformation(req);
    }
    const denied = this.#authenticate(req);
    if (denied) return denied;
    const throttled = this.#throttle();
    if (throttled) return throttled;
    if (segments.length === 1 && segments[0].toLowerCase() === 'thresholdinformation') return this.#threshold();
    const entity = entityName(segments[0]);
    if (!entity) return notFound();
    return this.#routeEntity(req, entity, segments.slice(1));
  }

  #routeEntity(req: SimRequest, entity: AtEntityName, rest: string[]): SimReply {
    const [first, second] = rest.map((s) => s.toLowerCase());
    if (first === 'query') return this.#routeQuery(req, entity, second);
    if (first === 'entityinformation' && second === 'fields' && req.method === 'GET') return this.#fieldInfo(entity);
    if (entity === 'Contracts' && rest.length >= 2 && isId(rest[0])) return this.#routeContractChild(req, Number(rest[0]), second, rest[2]);
    if (rest.length === 1 && isId(rest[0]) && req.method === 'GET') return this.#getOne(entity, Number(rest[0]));
    if (rest.length === 0 && req.method === 'POST') return this.#createRoot(entity, req.body);
    if (rest.length === 0 && req.method === 'PATCH') return this.#updateRoot(entity, req.body);
    return rest.length <= 1 ? methodNotAllowed() : notFound();
  }

  #routeQuery(req: SimRequest, entity: AtEntityName, sub: string | undefined): SimReply {
    if (!AT_ENTITIES[entity].canQuery) return methodNotAllowed();
    if (sub === 'next') return this.#nextPage(req, entity);
    if (req.method !== 'POST' && req.method !== 'GET') return methodNotAllowed();
    const query = normaliseQuery(req.method === 'POST' ? req.body : parseSearch(req.url));
    const items = this.#select(entity, query);
    if (sub === 'count') return ok({ queryCount: items.length });
    if (sub !== undefined) return notFound();
    return this.#page({ entity, query, offset: 0 }, items);
  }

  #nextPage(req: SimRequest, entity: AtEntityName): SimReply {
    const allowed = this.#options.nextPageMethods ?? ['GET', 'POST'];
    if (!allowed.includes(req.method as 'GET' | 'POST')) return methodNotAllowed();
    const cursor = this.#cursors.get(req.url.searchParams.get('paging') ?? '');
    if (!cursor || cursor.entity !== entity) return { status: 500, body: { errors: ['The paging token is invalid or has expired.'] } };
    return this.#page(cursor, this.#select(entity, cursor.query));
  }

  /** One page plus `pageDetails` (A.4); next/prev URLs carry an opaque token and the search. */
  #page(cursor: PageCursor, all: AtRecord[]): SimReply {
    const size = cursor.query.maxRecords;
    const items = all.slice(cursor.offset, cursor.offset + size).map((r) => project(r, cursor.query.includeFields));
    const hasNext = cursor.offset + size < all.length;
    return ok({
      items,
      pageDetails: {
        count: items.length,
        requestCount: size,
        prevPageUrl: cursor.offset > 0 ? this.#pageUrl({ ...cursor, offset: Math.max(0, cursor.offset - size) }) : null,
        nextPageUrl: hasNext ? this.#pageUrl({ ...cursor, offset: cursor.offset + size }) : null,
      },
    });
  }

  #pageUrl(cursor: PageCursor): string {
    const token = randomBytes(12).toString('hex');
    this.#cursors.set(token, cursor);
    const search = encodeURIComponent(JSON.stringify({ filter: cursor.query.filter, maxRecords: cursor.query.maxRecords }));
    return `${this.restRoot}V1.0/${cursor.entity}/query/next?paging=${token}&search=${search}`;
  }

  #select(entity: AtEntityName, query: NormalisedQuery): AtRecord[] {
    const fields = this.state.fields(entity);
    return this.state.all(entity).filter((r) => matches(r, query.filter, fields));
  }

  #getOne(entity: AtEntityName, id: number): SimReply {
    if (!AT_ENTITIES[entity].canQuery) return methodNotAllowed();
    const item = this.state.get(entity, id);
    // Whether a missing id is 404 or `{item:null}` is unconfirmed (A.3); the simulator answers 404.
    return item ? ok({ item }) : notFound();
  }

  #createRoot(entity: AtEntityName, body: unknown): SimReply {
    if (!AT_ENTITIES[entity].canCreate) return methodNotAllowed();
    const input = requireObject(body);
    switch (entity) {
      case 'Companies':
        return created(this.state.addCompany({ ...input, companyName: requireString(input, 'companyName') }).id);
      case 'Services':
        return created(this.state.addService({ ...input, name: requireString(input, 'name') }).id);
      case 'Contracts':
        return created(
          this.state.addContract({
            ...input,
            companyID: requireNumber(input, 'companyID'),
            contractName: requireString(input, 'contractName'),
            startDate: requireString(input, 'startDate'),
            endDate: requireString(input, 'endDate'),
          }).id,
        );
      case 'ContractServiceAdjustments':
        return this.#adjust(input, requireNumber(input, 'contractID'));
      default:
        return methodNotAllowed();
    }
  }

  #updateRoot(entity: AtEntityName, body: unknown): SimReply {
    if (!AT_ENTITIES[entity].canUpdate) return methodNotAllowed();
    const input = requireObject(body);
    requireNumber(input, 'id');
    return created(this.state.update(entity as 'Companies' | 'Contracts' | 'Services', input).id);
  }

  /** `/Contracts/{id}/Services[/{id}]`, `/ServiceAdjustments`, `/ServiceUnits` (A.8). */
  #routeContractChild(req: SimRequest, contractId: number, child: string | undefined, childId: string | undefined): SimReply {
    if (!this.state.get('Contracts', contractId)) return notFound();
    const list = (entity: AtEntityName): SimReply => {
      const rows = this.state.all(entity).filter((r) => r.contractID === contractId);
      if (childId === undefined)
        return ok({ items: rows, pageDetails: { count: rows.length, requestCount: rows.length, prevPageUrl: null, nextPageUrl: null } });
      const row = rows.find((r) => String(r.id) === childId);
      return row ? ok({ item: row }) : notFound();
    };
    if (child === 'services') {
      if (req.method === 'GET') return list('ContractServices');
      if (childId !== undefined) return methodNotAllowed();
      if (req.method === 'POST') return this.#createContractService(contractId, requireObject(req.body));
      if (req.method === 'PATCH') return created(this.state.updateContractService(contractId, requireObject(req.body)).id);
      return methodNotAllowed();
    }
    if (child === 'serviceadjustments') {
      return req.method === 'POST' && childId === undefined ? this.#adjust(requireObject(req.body), contractId) : methodNotAllowed();
    }
    if (child === 'serviceunits') return req.method === 'GET' ? list('ContractServiceUnits') : methodNotAllowed();
    return notFound();
  }

  #createContractService(contractId: number, input: Record<string, unknown>): SimReply {
    const line = this.state.addContractService({ ...input, contractID: contractId, serviceID: requireNumber(input, 'serviceID') });
    return created(line.id);
  }

  #adjust(input: Record<string, unknown>, contractId: number): SimReply {
    const bodyContract = ciGet(input, 'contractID');
    if (bodyContract !== undefined && Number(bodyContract) !== contractId) {
      throw new AtSimError(500, 'contractID in the body does not match the contract in the URL.');
    }
    const adjustment = this.state.applyAdjustment({
      contractID: contractId,
      serviceID: requireNumber(input, 'serviceID'),
      contractServiceID: optionalNumber(input, 'contractServiceID'),
      unitChange: requireNumber(input, 'unitChange'),
      effectiveDate: requireString(input, 'effectiveDate'),
      adjustedUnitPrice: optionalNumber(input, 'adjustedUnitPrice'),
      adjustedUnitCost: optionalNumber(input, 'adjustedUnitCost'),
    });
    return created(adjustment.id);
  }

  // ---- zone, auth, limits ------------------------------------------------------------

  #zoneInformation(req: SimRequest): SimReply {
    const user = req.url.searchParams.get('user') ?? '';
    if (!this.#users.some((u) => u.userName.toLowerCase() === user.toLowerCase())) {
      // The real error shape for an unknown user is unconfirmed (A.1).
      return { status: 500, body: { errors: [`Zone information could not be determined for user '${user}'.`] } };
    }
    return ok({ zoneName: this.#options.zoneName ?? 'Simulator Zone', url: this.restRoot, webUrl: `${this.#origin}/`, ci: 1 });
  }

  /** A.2: unknown user or bad integration code → 500; right user, wrong secret → 401 (plain text). */
  #authenticate(req: SimRequest): SimReply | undefined {
    const userName = header(req, 'username');
    const user = this.#users.find((u) => u.userName.toLowerCase() === (userName ?? '').toLowerCase());
    if (!user) return { status: 500, body: { errors: ['Unable to find an API user with the supplied UserName.'] } };
    if (header(req, 'secret') !== user.secret) return { status: 401, body: 'Unauthorized' };
    if (header(req, 'apiintegrationcode') !== user.integrationCode) {
      return { status: 500, body: { errors: ['The integration code is not valid.'] } };
    }
    return undefined;
  }

  /** 10,000 requests per rolling hour per tenant (A.7). The throttle status and body are unconfirmed. */
  #throttle(): SimReply | undefined {
    const now = Date.now();
    while (this.#requestTimes.length > 0 && this.#requestTimes[0] <= now - HOUR_MS) this.#requestTimes.shift();
    if (this.#requestTimes.length >= (this.#options.hourlyLimit ?? 10_000)) {
      return { status: 429, body: { errors: ['The request threshold for this database has been exceeded.'] } };
    }
    this.#requestTimes.push(now);
    return undefined;
  }

  #threshold(): SimReply {
    return ok({
      externalRequestThreshold: this.#options.hourlyLimit ?? 10_000,
      requestThresholdTimeframe: 60,
      currentTimeframeRequestCount: this.#requestTimes.length,
    });
  }

  /** Picklists so clients can resolve labels at run time (A.5, part C item 7). */
  #fieldInfo(entity: AtEntityName): SimReply {
    const picklists: Record<string, { value: string; label: string }[]> = {
      contractType: [
        { value: '1', label: 'Time and Materials' },
        { value: '3', label: 'Fixed Price' },
        { value: '4', label: 'Block Hours' },
        { value: '6', label: 'Retainer' },
        { value: '7', label: 'Recurring Service' },
        { value: '8', label: 'Incident' },
      ],
      status: [
        { value: '0', label: 'Inactive' },
        { value: '1', label: 'Active' },
      ],
      periodType: [
        { value: '1', label: 'Monthly' },
        { value: '2', label: 'Quarterly' },
        { value: '3', label: 'Semi-Annual' },
        { value: '4', label: 'Yearly' },
      ],
    };
    const fields = this.state
      .fields(entity)
      .filter((f) => f !== 'userDefinedFields')
      .map((name) => {
        const values = picklists[name];
        return {
          name,
          dataType: name === 'id' ? 'long' : 'string',
          isRequired: false,
          isReadOnly: name === 'id',
          isQueryable: true,
          isReference: false,
          referenceEntityType: '',
          isPickList: values !== undefined,
          picklistValues:
            values?.map((v, i) => ({ ...v, isDefaultValue: false, sortOrder: i, parentValue: '', isActive: true, isSystem: true })) ?? null,
          picklistParentValueField: '',
        };
      });
    return ok({ fields });
  }
}

// ---- small helpers ---------------------------------------------------------------------

function entityName(segment: string): AtEntityName | undefined {
  return (Object.keys(AT_ENTITIES) as AtEntityName[]).find((e) => e.toLowerCase() === segment.toLowerCase());
}

function parseSearch(url: URL): unknown {
  const search = url.searchParams.get('search');
  if (search === null) throw new AtSimError(500, 'The search parameter is required.');
  try {
    return JSON.parse(search) as unknown;
  } catch {
    throw new AtSimError(500, 'The search parameter is not valid JSON.');
  }
}

function header(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AtSimError(500, 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function requireString(input: Record<string, unknown>, field: string): string {
  const value = ciGet(input, field);
  if (typeof value !== 'string' || value === '') throw new AtSimError(500, `${field} is required.`);
  return value;
}

function requireNumber(input: Record<string, unknown>, field: string): number {
  const value = ciGet(input, field);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AtSimError(500, `${field} is required and must be a number.`);
  return value;
}

function optionalNumber(input: Record<string, unknown>, field: string): number | undefined {
  const value = ciGet(input, field);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new AtSimError(500, `${field} must be a number.`);
  return value;
}

function isId(segment: string): boolean {
  return /^\d+$/.test(segment);
}

function ok(body: unknown): SimReply {
  return { status: 200, body };
}

function created(itemId: number): SimReply {
  return ok({ itemId });
}

function notFound(): SimReply {
  return { status: 404, body: { errors: ['The requested resource was not found.'] } };
}

function methodNotAllowed(): SimReply {
  return { status: 405, body: { errors: ['The requested resource does not support this HTTP method.'] } };
}

function faultBody(status: number): unknown {
  return { errors: [status === 429 ? 'Too many requests.' : 'An unexpected error occurred on the server.'] };
}
