import type { FastifyInstance } from 'fastify';
import { XMLParser } from 'fast-xml-parser';
import { buildServer } from '../../src/api/server.js';
import type { TestContext } from '../support/test-db.js';
import { TEST_ADMIN } from '../support/engine.js';

export interface CortexReply {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: string;
  /** The response parsed into plain objects (attributes as @_name), for shape assertions. */
  xml: any;
}

export interface CortexClient {
  url: string;
  app: FastifyInstance;
  /** POSTs a request document over a real socket with Basic credentials (default: the provider admin). */
  post(xml: string, credentials?: { user: string; password: string } | null, headers?: Record<string, string>): Promise<CortexReply>;
  get(credentials?: { user: string; password: string } | null, path?: string): Promise<CortexReply>;
  close(): Promise<void>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name) => ['customer', 'user', 'service', 'userplan', 'userpackage', 'package', 'property', 'instance', 'role'].includes(name),
});

export const ADMIN = { user: TEST_ADMIN.user, password: TEST_ADMIN.password };

export async function startCortex(t: TestContext): Promise<CortexClient> {
  const app = await buildServer(t.ctx);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${address}/CortexAPI/Default.aspx`;
  const call = async (
    method: string,
    target: string,
    body: string | undefined,
    credentials: { user: string; password: string } | null,
    headers: Record<string, string>,
  ): Promise<CortexReply> => {
    const auth: Record<string, string> = credentials
      ? { authorization: 'Basic ' + Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64') }
      : {};
    const res = await fetch(target, {
      method,
      body,
      headers: { ...(body !== undefined ? { 'content-type': 'text/xml' } : {}), ...auth, ...headers },
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      headers: res.headers,
      body: text,
      xml: text.startsWith('<?xml') ? parser.parse(text) : undefined,
    };
  };
  return {
    url,
    app,
    post: (xml, credentials = ADMIN, headers = {}) => call('POST', url, xml, credentials, headers),
    get: (credentials = ADMIN, path = '/CortexAPI/Default.aspx') => call('GET', `${address}${path}`, undefined, credentials, {}),
    close: () => app.close(),
  };
}

/** Wraps entity XML in the seed's request envelope. */
export function request(action: string, inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<request version="1.0" action="${action}">\n${inner}\n</request>`;
}

export function errorOf(reply: CortexReply): { id: number; message: string } | undefined {
  const e = reply.xml?.response?.error;
  return e ? { id: Number(e.id), message: String(e.message) } : undefined;
}

export function requestIdOf(reply: CortexReply): number {
  const id = Number(reply.xml?.response?.request?.id);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`no request id in: ${reply.body}`);
  return id;
}
