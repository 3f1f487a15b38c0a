import { SimServer, SimulatedPsa, type SimReply, type SimRequest } from '../shared/sim-server.js';
import { ConditionsError, evaluate, parseConditions, readPath, rootFields } from './sim-conditions.js';
import { seedConnectWiseDemo, type ConnectWiseDemo } from './sim-demo.js';
import { CW_FIELDS, ConnectWiseSimState, CwSimError, notFound, type CwRow } from './sim-state.js';

/** API member keys and the integration clientId the simulated company accepts (psa-wire.md B.2). */
export interface CwSimCredentials {
  companyId: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

export const DEFAULT_CW_CREDENTIALS: CwSimCredentials = {
  companyId: 'simco',
  publicKey: 'simPublicKey',
  privateKey: 'simPrivateKey',
  clientId: '00000000-0000-4000-8000-000000000001',
};

export interface ConnectWiseSimulatorOptions {
  credentials?: CwSimCredentials;
  codebase?: string;
}

/** Page size when none is given; commonly 25 (B.3, unconfirmed). */
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 1000;

type Resource = keyof typeof CW_FIELDS;

/**
 * In-process ConnectWise Manage REST 3.0 (psa-wire.md part C, "ConnectWise simulator"):
 * Basic + clientId auth, the conditions grammar, page/pageSize/Link paging, JSON-Patch,
 * addition validation with derived prices, and the `{code,message,errors}` error shape.
 */
export class ConnectWiseSimulator extends SimulatedPsa {
  readonly state = new ConnectWiseSimState();
  protected readonly server: SimServer;
  readonly #credentials: CwSimCredentials;
  readonly #codebase: string;
  #origin = '';

  private constructor(options: ConnectWiseSimulatorOptions) {
    super();
    this.#credentials = options.credentials ?? DEFAULT_CW_CREDENTIALS;
    this.#codebase = options.codebase ?? 'v4_6_release';
    this.server = new SimServer({
      handler: (req) => this.#handle(req),
      faultBody: (status) => ({
        code: status === 429 ? 'TooManyRequests' : 'UnexpectedError',
        message: `Simulated HTTP ${status}`,
        errors: [],
      }),
    });
  }

  static async start(options: ConnectWiseSimulatorOptions = {}): Promise<ConnectWiseSimulator> {
    const sim = new ConnectWiseSimulator(options);
    sim.#origin = await sim.server.start();
    return sim;
  }

  /** Origin, for example `http://127.0.0.1:41234`. */
  get baseUrl(): string {
    return this.#origin;
  }

  /** The ApiUrl to give the client: `{origin}/{codebase}/apis/3.0`. */
  get apiUrl(): string {
    return `${this.#origin}/${this.#codebase}/apis/3.0`;
  }

  /** Seeds sample companies, agreements, catalog items and additions. */
  seedDemo(): ConnectWiseDemo {
    return seedConnectWiseDemo(this.state);
  }

  // ---- routing -----------------------------------------------------------------------

  #handle(req: SimRequest): SimReply {
    try {
      const denied = this.#authenticate(req);
      if (denied) return denied;
      return this.#route(req);
    } catch (err) {
      if (err instanceof CwSimError) return { status: err.status, body: err.body };
      throw err;
    }
  }

  #route(req: SimRequest): SimReply {
    const match = /^\/[^/]+\/apis\/3\.0\/(.+?)\/?$/i.exec(req.url.pathname);
    if (!match) throw notFound('resource', req.url.pathname);
    const seg = match[1].split('/').map((s) => s.toLowerCase());
    const s = this.state;
    const key = seg.map((x) => (/^\d+$/.test(x) ? '{id}' : x)).join('/');
    const id = (i: number): number => Number(seg[i]);
    switch (`${req.method} ${key}`) {
      case 'GET company/companies':
        return this.#list(req, 'companies', [...s.companies.values()]);
      case 'GET company/companies/count':
        return this.#count(req, 'companies', [...s.companies.values()]);
      case 'GET company/companies/{id}':
        return found(s.companies.get(id(2)), 'company', seg[2]);
      case 'GET finance/agreements':
        return this.#list(req, 'agreements', [...s.agreements.values()]);
      case 'GET finance/agreements/count':
        return this.#count(req, 'agreements', [...s.agreements.values()]);
      case 'GET finance/agreements/{id}':
        return found(s.agreements.get(id(2)), 'agreement', seg[2]);
      case 'GET finance/agreements/types':
        return this.#list(req, 'agreementTypes', [...s.agreementTypes.values()]);
      case 'GET finance/agreements/types/{id}':
        return found(s.agreementTypes.get(id(3)), 'agreementType', seg[3]);
      case 'GET finance/agreements/{id}/additions':
        return this.#list(req, 'additions', s.additionsOf(s.agreement(id(2)).id));
      case 'GET finance/agreements/{id}/additions/count':
        return this.#count(req, 'additions', s.additionsOf(s.agreement(id(2)).id));
      case 'POST finance/agreements/{id}/additions':
        return { status: 201, body: s.addAddition(id(2), requireObject(req.body)) };
      case 'GET finance/agreements/{id}/additions/{id}':
        return { status: 200, body: s.getAddition(id(2), id(4)) };
      case 'PATCH finance/agreements/{id}/additions/{id}':
        return { status: 200, body: s.patchAddition(id(2), id(4), req.body) };
      case 'PUT finance/agreements/{id}/additions/{id}':
        return { status: 200, body: s.putAddition(id(2), id(4), requireObject(req.body)) };
      case 'DELETE finance/agreements/{id}/additions/{id}':
        s.deleteAddition(id(2), id(4));
        return { status: 204 };
      case 'GET procurement/catalog':
        return this.#list(req, 'catalog', [...s.catalog.values()]);
      case 'GET procurement/catalog/count':
        return this.#count(req, 'catalog', [...s.catalog.values()]);
      case 'GET procurement/catalog/{id}':
        return found(s.catalog.get(id(2)), 'catalogItem', seg[2]);
      default:
        throw notFound('resource', req.url.pathname);
    }
  }

  /** B.2: Basic `company+public:private` and a clientId header; any Accept version. 401 body shape is unconfirmed. */
  #authenticate(req: SimRequest): SimReply | undefined {
    const { companyId, publicKey, privateKey, clientId } = this.#credentials;
    const expected = `Basic ${Buffer.from(`${companyId}+${publicKey}:${privateKey}`).toString('base64')}`;
    const authorization = header(req, 'authorization');
    if (authorization !== expected) {
      return { status: 401, body: { code: 'Unauthorized', message: 'The member credentials are not valid.', errors: [] } };
    }
    if (header(req, 'clientid') !== clientId) {
      return { status: 401, body: { code: 'Unauthorized', message: 'A valid clientId header is required.', errors: [] } };
    }
    return undefined;
  }

  /** List with conditions, orderBy, pageId, page/pageSize and a Link header (B.3). */
  #list(req: SimRequest, resource: Resource, rows: object[]): SimReply {
    const params = req.url.searchParams;
    let selected = this.#filter(resource, rows as CwRow[], params.get('conditions'));
    const pageId = params.get('pageId');
    if (pageId !== null) selected = selected.filter((r) => r.id > Number(pageId));
    selected = sortRows(selected, params.get('orderBy'));
    const pageSize = Math.min(MAX_PAGE_SIZE, positiveInt(params.get('pageSize'), 'pageSize') ?? DEFAULT_PAGE_SIZE);
    const page = positiveInt(params.get('page'), 'page') ?? 1;
    const slice = selected.slice((page - 1) * pageSize, page * pageSize);
    const lastPage = Math.max(1, Math.ceil(selected.length / pageSize));
    const fields = params.get('fields');
    const link = this.#linkHeader(req.url, page, lastPage, pageSize);
    return { status: 200, body: fields ? slice.map((r) => pick(r, fields)) : slice, headers: link ? { Link: link } : {} };
  }

  #count(req: SimRequest, resource: Resource, rows: object[]): SimReply {
    return { status: 200, body: { count: this.#filter(resource, rows as CwRow[], req.url.searchParams.get('conditions')).length } };
  }

  #filter(resource: Resource, rows: CwRow[], conditions: string | null): CwRow[] {
    if (conditions === null || conditions.trim() === '') return rows;
    try {
      const tree = parseConditions(conditions);
      const known = CW_FIELDS[resource] as readonly string[];
      const unknown = rootFields(tree).find((f) => !known.some((k) => k.toLowerCase() === f.toLowerCase()));
      if (unknown) throw new ConditionsError(`Cannot find field '${unknown}' on ${resource}.`);
      return rows.filter((r) => evaluate(tree, r));
    } catch (err) {
      if (!(err instanceof ConditionsError)) throw err;
      throw new CwSimError(400, 'InvalidObject', err.message, [
        { code: 'InvalidField', message: err.message, resource, field: 'conditions' },
      ]);
    }
  }

  /** `<url>; rel="next"` etc. (B.3, client-observed), with absolute URLs on this simulator. */
  #linkHeader(url: URL, page: number, lastPage: number, pageSize: number): string {
    const at = (p: number): string => {
      const u = new URL(`${this.#origin}${url.pathname}${url.search}`);
      u.searchParams.set('pageSize', String(pageSize));
      u.searchParams.set('page', String(p));
      return `<${u.toString()}>`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`${at(1)}; rel="first"`, `${at(page - 1)}; rel="prev"`);
    if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
    return links.join(', ');
  }
}

function sortRows(rows: CwRow[], orderBy: string | null): CwRow[] {
  const keys = (orderBy ?? 'id asc').split(',').map((part) => {
    const [path, dir] = part.trim().split(/\s+/);
    return { path: path.split('/'), desc: dir?.toLowerCase() === 'desc' };
  });
  return [...rows].sort((a, b) => {
    for (const { path, desc } of keys) {
      const x = readPath(a, path) as string | number | undefined;
      const y = readPath(b, path) as string | number | undefined;
      if (x === y) continue;
      const order = x === undefined ? -1 : y === undefined ? 1 : x < y ? -1 : 1;
      return desc ? -order : order;
    }
    return 0;
  });
}

/** `fields=id,name,company/identifier` (B.3). */
function pick(row: CwRow, fields: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)) {
    const path = field.split('/');
    const value = readPath(row, path);
    if (value === undefined) continue;
    let target = out;
    for (const segment of path.slice(0, -1)) target = (target[segment] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1]] = value;
  }
  return out;
}

function positiveInt(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new CwSimError(400, 'InvalidObject', `${name} must be a positive integer.`, [
      { code: 'InvalidField', message: `${name} must be a positive integer.`, resource: 'query', field: name },
    ]);
  }
  return Number(value);
}

function found(row: object | undefined, resource: string, id: string): SimReply {
  if (!row) throw notFound(resource, id);
  return { status: 200, body: row };
}

function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CwSimError(400, 'InvalidObject', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function header(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
