import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { inTransaction } from '../../src/core/db/database.js';
import type { Config } from '../../src/core/config.js';
import { createApiToken, tokenSigningKey } from '../../src/tenancy/api-tokens/api-token.service.js';
import { createUser } from '../../src/tenancy/user.service.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ADMIN } from '../support/engine.js';
import { makeTenant, PASSWORD, type Tenant } from '../support/fixtures.js';

export interface Credentials {
  user: string;
  password: string;
}

export const PROVIDER_ADMIN: Credentials = { user: TEST_ADMIN.user, password: TEST_ADMIN.password };

/** A server in this process (Fastify inject: real routing, parsing and handlers, no socket) plus a tenant with users. */
export interface ReliabilityApp {
  t: TestContext;
  app: FastifyInstance;
  tenant: Tenant;
  /** The tenant's admin, as CortexAPI credentials. */
  tenantAdmin: Credentials;
  /** A provider developer token for the External REST API. */
  token: string;
  cortex(body: string | Buffer, credentials?: Credentials, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  rest(url: string, bearer?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const basic = (c: Credentials): string => 'Basic ' + Buffer.from(`${c.user}:${c.password}`).toString('base64');

export async function openReliabilityApp(overrides: Partial<Config> = {}, users = 20): Promise<ReliabilityApp> {
  const t = await openTestContext(overrides);
  const tenant = await makeTenant(t.db, t.admin, { fullname: 'Flood Test Ltd' });
  await inTransaction(t.db, async (tx) => {
    for (let i = 1; i < users; i++) await createUser(tx, t.admin, tenant.customer, { name: `user${i}`, password: { password: PASSWORD } });
  });
  const key = tokenSigningKey(t.ctx.secrets);
  const { token } = await inTransaction(t.db, (tx) => createApiToken(tx, t.admin, key, { label: 'reliability' }));
  const app = await buildServer(t.ctx);
  await app.ready();
  const tenantAdmin = { user: tenant.adminUser.name, password: PASSWORD };
  return {
    t,
    app,
    tenant,
    tenantAdmin,
    token,
    cortex: (body, credentials = PROVIDER_ADMIN, headers = {}) =>
      app.inject({
        method: 'POST',
        url: '/CortexAPI/Default.aspx',
        payload: body,
        headers: { 'content-type': 'text/xml', authorization: basic(credentials), ...headers },
      }),
    rest: (url, bearer = token) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } }),
    close: async () => {
      await app.close();
      await t.close();
    },
  };
}

export function cortexRequest(action: string, inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<request version="1.0" action="${action}">\n${inner}\n</request>`;
}

/** The error id of a CortexAPI answer, after checking the answer is well-formed XML with the seed's shape. */
export function cortexErrorId(res: LightMyRequestResponse): number | undefined {
  expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
  expect(XMLValidator.validate(res.body)).toBe(true);
  expect(res.body).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<response version="1.0"/);
  const m = /<error>\s*<id>(\d+)<\/id>/.exec(res.body);
  return m ? Number(m[1]) : undefined;
}

/** The REST envelope of an answer (seed 000), checked for shape. */
export function envelopeOf(res: LightMyRequestResponse): {
  data: unknown;
  errorMessage: string | null;
  success: boolean;
  responseCode: number;
} {
  const body = res.json();
  expect(Object.keys(body)).toEqual(['data', 'errorMessage', 'success', 'responseCode']);
  expect(body.responseCode).toBe(res.statusCode);
  return body;
}
