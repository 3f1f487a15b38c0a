import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, setRoles } from '../../src/tenancy/user.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, PASSWORD, type Tenant } from '../support/fixtures.js';
import { basic, cortexErrorId, cortexRequest, envelopeOf, type Credentials } from './support.js';
import { createApiToken, tokenSigningKey } from '../../src/tenancy/api-tokens/api-token.service.js';

/**
 * Two tenants, one flooding. Time is a variable the test moves (no waiting, no margins), so the
 * counts are exact: a bucket of N admits exactly N requests until the clock moves.
 */
const PER_USER = 5;
const PER_CUSTOMER = 8;
let t: TestContext;
let app: FastifyInstance;
let now = 1_000_000;
let flooder: Tenant;
let bystander: Tenant;
let flooderAdmin: Credentials;
let flooderColleague: Credentials;
let bystanderAdmin: Credentials;
let token: string;

beforeAll(async () => {
  t = await openTestContext({ ratePerUser: PER_USER, ratePerCustomer: PER_CUSTOMER, maxConcurrentPerUser: 2, maxConcurrentPerCustomer: 3 });
  flooder = await makeTenant(t.db, t.admin, { fullname: 'Flooding Tenant' });
  bystander = await makeTenant(t.db, t.admin, { fullname: 'Quiet Tenant' });
  const colleague = await inTransaction(t.db, async (tx) => {
    const { user } = await createUser(tx, t.admin, flooder.customer, { name: 'colleague', password: { password: PASSWORD } });
    await setRoles(tx, t.admin, user.id, [ROLE.customerAdmin]);
    return user;
  });
  flooderAdmin = { user: flooder.adminUser.name, password: PASSWORD };
  flooderColleague = { user: colleague.name, password: PASSWORD };
  bystanderAdmin = { user: bystander.adminUser.name, password: PASSWORD };
  token = (await inTransaction(t.db, (tx) => createApiToken(tx, t.admin, tokenSigningKey(t.ctx.secrets), { label: 'fair use' }))).token;
  app = await buildServer(t.ctx, { now: () => now });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await t.close();
});

const findOwn = (tenant: Tenant, who: Credentials) =>
  app.inject({
    method: 'POST',
    url: '/CortexAPI/Default.aspx',
    payload: cortexRequest('FIND', `<customer><name>${tenant.customer.name}</name></customer>`),
    headers: { authorization: basic(who) },
  });

async function flood(n: number, send: () => ReturnType<typeof findOwn>): Promise<{ ok: number; refused: number; retryAfter: Set<string> }> {
  let ok = 0;
  let refused = 0;
  const retryAfter = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await send();
    if (res.statusCode === 200) ok++;
    else {
      expect(res.statusCode).toBe(429);
      retryAfter.add(String(res.headers['retry-after']));
      refused++;
    }
  }
  return { ok, refused, retryAfter };
}

describe('rate limits per user and per customer', () => {
  it('admits exactly the per-user budget of a flooding user; the CortexAPI refusal is error 0 with HTTP 429 and Retry-After', async () => {
    const res = await flood(20, () => findOwn(flooder, flooderAdmin));
    expect(res).toMatchObject({ ok: PER_USER, refused: 15 });
    // One token comes back every 60/5 = 12 seconds.
    expect([...res.retryAfter]).toEqual(['12']);
    const refusal = await findOwn(flooder, flooderAdmin);
    expect(cortexErrorId(refusal)).toBe(0);
    expect(refusal.body).toMatch(/Too many requests from this user \(at most 5 a minute\)/);
  });

  it('caps the whole customer: a second user of the flooding tenant gets only what is left of the customer budget', async () => {
    const res = await flood(10, () => findOwn(flooder, flooderColleague));
    expect(res).toMatchObject({ ok: PER_CUSTOMER - PER_USER, refused: 10 - (PER_CUSTOMER - PER_USER) });
    expect((await findOwn(flooder, flooderColleague)).body).toMatch(/Too many requests from this customer \(at most 8 a minute\)/);
  });

  it('leaves the other tenant its full budget while the flood goes on', async () => {
    expect(await flood(PER_USER, () => findOwn(bystander, bystanderAdmin))).toMatchObject({ ok: PER_USER, refused: 0 });
  });

  it('refuses the External API and the console with 429, Retry-After and their own error shapes', async () => {
    const rest = () => app.inject({ method: 'GET', url: '/api/Billing/parameters', headers: { authorization: `Bearer ${token}` } });
    expect(await flood(PER_USER + 3, rest)).toMatchObject({ ok: PER_USER, refused: 3 });
    const refused = await rest();
    expect(refused.headers['retry-after']).toBe('12');
    expect(envelopeOf(refused)).toMatchObject({ success: false, responseCode: 429 });
    const console = await app.inject({ method: 'GET', url: '/api/console/tokens', headers: { authorization: basic(bystanderAdmin) } });
    expect(console.statusCode).toBe(429);
    expect(console.json().error.code).toBe('TooManyRequests');
  });

  it('refills with time: 12 seconds later the flooding user has one request again', async () => {
    now += 12_000;
    expect(await flood(3, () => findOwn(flooder, flooderAdmin))).toMatchObject({ ok: 1, refused: 2 });
  });
});

describe('concurrency limits', () => {
  it('refuses a user with too many requests running, not the other tenant, and admits again once one finishes', async () => {
    now += 10 * 60_000;
    const flooderCaller = { userId: flooder.adminUser.id, customerId: flooder.customer.id };
    const running = [app.fairUse.admit(flooderCaller), app.fairUse.admit(flooderCaller)];
    const refused = await findOwn(flooder, flooderAdmin);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatch(/at once \(at most 2\)/);
    expect((await findOwn(bystander, bystanderAdmin)).statusCode).toBe(200);
    running.pop()!();
    expect((await findOwn(flooder, flooderAdmin)).statusCode).toBe(200);
    running.pop()!();
  });

  it('frees every slot when responses end, including refused ones', () => {
    const fair = app.fairUse as unknown as { running: Map<string, number> };
    expect(fair.running.size).toBe(0);
  });
});

describe('clients that hang up', () => {
  it('frees the slot of a request whose client went away while it was being authenticated', async () => {
    // The hang-up lands before the console handler authenticates and admits the caller, the moment
    // a browser leaves a page whose live feed was still opening: on PostgreSQL the slots of four
    // such feeds used to stay taken, and the user's next page load was refused with 429.
    const server = await buildServer(t.ctx, { now: () => now });
    server.addHook('preHandler', async (request, reply) => {
      if (request.headers['x-hang-up'] !== 'yes') return;
      const closed = new Promise((resolve) => reply.raw.once('close', resolve));
      request.raw.socket.destroy();
      await closed;
    });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      now += 10 * 60_000;
      const headers = { authorization: basic(bystanderAdmin) };
      const fair = server.fairUse as unknown as { running: Map<string, number> };
      for (let i = 0; i < 3; i++) {
        await expect(fetch(`${base}/api/console/session`, { headers: { ...headers, 'x-hang-up': 'yes' } })).rejects.toThrow();
        await expect.poll(() => fair.running.size, { timeout: 30_000 }).toBe(0);
      }
      expect((await fetch(`${base}/api/console/session`, { headers })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After before authenticating while the heap is above the limit; health checks still answer', async () => {
    const server = await buildServer(t.ctx, { now: () => now, heapRatio: () => 0.99 });
    try {
      const res = await server.inject({
        method: 'POST',
        url: '/CortexAPI/Default.aspx',
        payload: cortexRequest('FIND', '<customer/>'),
        headers: { authorization: 'Basic eDp5' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(cortexErrorId(res)).toBe(0);
      const rest = await server.inject({ method: 'GET', url: '/api/Billing/parameters' });
      expect(envelopeOf(rest)).toMatchObject({ responseCode: 503 });
      expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
