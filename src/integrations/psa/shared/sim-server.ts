import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the simulators see it: parsed URL, lower-cased headers, parsed JSON body. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** Parsed JSON; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

export interface SimReply {
  status: number;
  /** Objects and arrays are sent as JSON; strings as text/plain; undefined as an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type SimHandler = (req: SimRequest) => SimReply;

/** One scripted failure, consumed in order before normal handling. */
export interface FaultSpec {
  /** Answer with this status (500 or 429 in practice) instead of handling the request. */
  status?: number;
  /** Never answer: the client must time out. */
  hang?: boolean;
  /** How many matching requests fail this way (default 1). */
  count?: number;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  /** Only requests whose method and path match are faulted. */
  match?: { method?: string; path?: RegExp };
  /** Body for a status fault; defaults to the vendor's error shape. */
  body?: unknown;
}

/** A request the simulator received, for assertions in tests. */
export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: IncomingMessage['headers'];
  /** True when a fault answered this request. */
  faulted: boolean;
}

export interface SimServerOptions {
  handler: SimHandler;
  /** Builds the vendor error body for an injected status fault. */
  faultBody: (status: number) => unknown;
}

/**
 * An HTTP server on 127.0.0.1 with an ephemeral port, shared by both simulators: request
 * log, fault injection (status codes, Retry-After, hangs) and JSON plumbing.
 */
export class SimServer {
  readonly requests: RecordedRequest[] = [];
  readonly #faults: FaultSpec[] = [];
  readonly #options: SimServerOptions;
  #server: Server | undefined;

  constructor(options: SimServerOptions) {
    this.#options = options;
  }

  /** Starts listening and returns the origin, for example `http://127.0.0.1:41234`. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#serve(req, res));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    // Hung requests keep sockets open; close them so tests end promptly.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queues faults; each applies to the next `count` matching requests. */
  injectFaults(spec: FaultSpec): void {
    this.#faults.push({ ...spec, count: spec.count ?? 1 });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const fault = this.#takeFault(method, url.pathname);
    this.requests.push({ method, path: url.pathname, search: url.search, headers: req.headers, faulted: fault !== undefined });
    const text = await readText(req);
    if (fault?.hang) return;
    if (fault) {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) };
      send(res, { status: fault.status ?? 500, body: fault.body ?? this.#options.faultBody(fault.status ?? 500), headers });
      return;
    }
    let reply: SimReply;
    try {
      reply = this.#options.handler({ method, url, headers: req.headers, body: parseJson(text) });
    } catch (err) {
      reply = { status: 500, body: this.#options.faultBody(500) };
      console.error('simulator handler crashed', err);
    }
    send(res, reply);
  }

  #takeFault(method: string, path: string): FaultSpec | undefined {
    const index = this.#faults.findIndex(
      (f) => (f.match?.method === undefined || f.match.method === method) && (f.match?.path?.test(path) ?? true),
    );
    if (index === -1) return undefined;
    const fault = this.#faults[index];
    fault.count = (fault.count ?? 1) - 1;
    if (fault.count <= 0) this.#faults.splice(index, 1);
    return fault;
  }
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function send(res: ServerResponse, reply: SimReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['Content-Type'] = 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** What every PSA simulator offers tests besides its vendor's endpoints. */
export abstract class SimulatedPsa {
  protected abstract readonly server: SimServer;

  /** Every request received, for assertions on headers and call counts. */
  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Makes the next `count` matching requests fail with `status` (and Retry-After) or hang. */
  injectFaults(spec: FaultSpec): void {
    this.server.injectFaults(spec);
  }

  clearFaults(): void {
    this.server.clearFaults();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
