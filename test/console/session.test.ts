import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import { PASSWORD, type ResellerTree } from '../support/fixtures.js';
import { TEST_ADMIN } from '../support/engine.js';
import { inTransaction } from '../../src/core/db/database.js';
import { buildServer } from '../../src/api/server.js';
import { consoleGate } from '../../src/api/console/console-auth.js';
import { updateUser } from '../../src/tenancy/user.service.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { basic, ConsoleClient, ManualClock } from './support.js';

let setup: ConsoleTestApp;
let t: TestContext;
let app: FastifyInstance;
let tree: ResellerTree;
const clock = new ManualClock();

beforeAll(async () => {
  setup = await consoleTestApp((t) => {
    consoleGate(t.ctx, { now: clock.now, idleMs: 30 * 60_000 });
  });
  ({ t, tree, app } = setup);
});
afterAll(() => setup?.close());

describe('console sign-in', () => {
  it('refuses a wrong password with the one error shape and no cookie', async () => {
    const c = new ConsoleClient(app);
    const res = await c.signIn(TEST_ADMIN.user, 'wrong');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'NotAuthenticated', message: 'The user authentication failed' },
      requestId: expect.any(String),
    });
    expect(res.cookies).toEqual([]);
  });

  it('signs in with the CortexAPI user name and password into an HttpOnly SameSite=Lax cookie session', async () => {
    const c = new ConsoleClient(app);
    const res = await c.signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((k) => k.name === 'tenantry_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.secure).toBeFalsy();
    const body = res.json();
    expect(body.customer).toMatchObject({ id: t.provider.id, isProvider: true });
    expect(body.roles).toEqual(['Provider Administrator']);
    expect(body.permissions).toContain('Manage Customers');
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    // Only a hash of the token is stored.
    const stored = await t.db.selectFrom('console_sessions').select('token_hash').execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(cookie.value);

    const me = await c.get('/api/console/session');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { name: body.user.name }, csrfToken: body.csrfToken });
  });

  it('accepts a Name_CODE user name', async () => {
    const res = await new ConsoleClient(app).signIn(tree.customerA.adminUser.name, PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.json().customer.id).toBe(tree.customerA.customer.id);
  });

  it('marks the cookie Secure when a trusted proxy says the call came over HTTPS', async () => {
    const proxied = { ...t.ctx, config: { ...t.ctx.config, trustProxy: true } };
    consoleGate(proxied, { now: clock.now, idleMs: 30 * 60_000 });
    const behindProxy = await buildServer(proxied);
    try {
      const res = await new ConsoleClient(behindProxy, { 'x-forwarded-proto': 'https' }).signIn(TEST_ADMIN.user, TEST_ADMIN.password);
      expect(res.statusCode).toBe(200);
      expect(res.cookies[0]).toMatchObject({ secure: true, httpOnly: true });
    } finally {
      await behindProxy.close();
    }
    // Without a trusted proxy the header is not believed.
    const res = await new ConsoleClient(app, { 'x-forwarded-proto': 'https' }).signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    expect(res.cookies[0]!.secure).toBeFalsy();
  });

  it('refuses a state-changing call without the CSRF token, and signs out with it', async () => {
    const c = new ConsoleClient(app);
    await c.signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    const csrf = c.csrf;
    c.csrf = undefined;
    const refused = await c.delete('/api/console/session');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('CsrfTokenInvalid');
    c.csrf = 'x'.repeat(43);
    expect((await c.delete('/api/console/session')).statusCode).toBe(403);
    c.csrf = csrf;
    const out = await c.delete('/api/console/session');
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toMatch(/tenantry_session=;/);
    expect((await c.get('/api/console/session')).statusCode).toBe(401);
  });

  it('clears sessions nobody can resume when a new one starts', async () => {
    const stale = new ConsoleClient(app);
    await stale.signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    const before = await t.db.selectFrom('console_sessions').select('id').execute();
    clock.advance(31);
    await new ConsoleClient(app).signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    const after = await t.db.selectFrom('console_sessions').select('id').execute();
    expect(after).toHaveLength(1);
    expect(before.length).toBeGreaterThan(1);
  });

  it('keeps Basic auth working on console endpoints for scripts (no CSRF token needed)', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/console/session', headers: basic(TEST_ADMIN.user, TEST_ADMIN.password) });
    expect(res.statusCode).toBe(200);
    expect(res.json().csrfToken).toBeNull();
    const created = await app.inject({
      method: 'POST',
      url: '/api/console/tokens',
      headers: { ...basic(TEST_ADMIN.user, TEST_ADMIN.password), 'content-type': 'application/json' },
      payload: '{"label":"script"}',
    });
    expect(created.statusCode).toBe(201);
  });

  it('ends a session after the idle time, and not before', async () => {
    const c = new ConsoleClient(app);
    await c.signIn(TEST_ADMIN.user, TEST_ADMIN.password);
    clock.advance(29);
    expect((await c.get('/api/console/session')).statusCode).toBe(200);
    clock.advance(29);
    expect((await c.get('/api/console/session')).statusCode).toBe(200);
    clock.advance(31);
    const expired = await c.get('/api/console/session');
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toMatch(/expired/);
    expect((await c.get('/api/console/session')).statusCode).toBe(401);
  });

  it('ends the sessions of a user who is disabled, and of users of a disabled customer, at once', async () => {
    const c = new ConsoleClient(app);
    await c.signIn(tree.customerB.adminUser.name, PASSWORD);
    expect((await c.get('/api/console/session')).statusCode).toBe(200);
    await inTransaction(t.db, (tx) =>
      updateUser(tx, t.admin, tree.customerB.customer, { id: tree.customerB.adminUser.id }, { enabled: false }),
    );
    // Every call of the ended session says why (several tabs ask at once), not only the first.
    for (let i = 0; i < 2; i++) {
      const ended = await c.get('/api/console/session');
      expect(ended.statusCode).toBe(401);
      expect(ended.json().error).toEqual({ code: 'AccountDisabled', message: expect.stringMatching(/ended: your user has been disabled/) });
    }
    // The right password of a disabled user is told so; a wrong one learns nothing.
    const refused = await c.signIn(tree.customerB.adminUser.name, PASSWORD);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toEqual({ code: 'AccountDisabled', message: expect.stringMatching(/user is disabled/) });
    expect((await c.signIn(tree.customerB.adminUser.name, 'wrong-password')).json().error.code).toBe('NotAuthenticated');
    // Enabling the user again does not revive the ended session.
    await inTransaction(t.db, (tx) =>
      updateUser(tx, t.admin, tree.customerB.customer, { id: tree.customerB.adminUser.id }, { enabled: true }),
    );
    expect((await c.get('/api/console/session')).json().error.code).toBe('AccountDisabled');

    const d = new ConsoleClient(app);
    await d.signIn(tree.direct.adminUser.name, PASSWORD);
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: tree.direct.customer.id }, { enabled: false }));
    const customerEnded = await d.get('/api/console/session');
    expect(customerEnded.statusCode).toBe(401);
    expect(customerEnded.json().error.message).toMatch(/your customer has been disabled/);
    const customerRefused = (await new ConsoleClient(app).signIn(tree.direct.adminUser.name, PASSWORD)).json().error;
    expect(customerRefused).toEqual({ code: 'AccountDisabled', message: expect.stringMatching(/customer is disabled/) });
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: tree.direct.customer.id }, { enabled: true }));
  });

  it('validates the sign-in body field by field', async () => {
    const res = await new ConsoleClient(app).call('POST', '/api/console/session', { userName: 'admin' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'ValidationError', field: 'password' });
    const extra = await new ConsoleClient(app).call('POST', '/api/console/session', { userName: 'admin', password: 'x', remember: true });
    expect(extra.json().error).toMatchObject({ code: 'ValidationError', field: 'remember' });
  });

  it('after repeated failures makes that address wait, with a message that says for how long, and Retry-After', async () => {
    const name = tree.resellerB.adminUser.name;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await new ConsoleClient(app).signIn(name, 'not-the-password'));
    const last = answers.at(-1)!;
    expect(last.statusCode).toBe(429);
    expect(last.json().error).toMatchObject({ code: 'TooManyAttempts', message: expect.stringMatching(/try again in \d+ seconds/) });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(last.headers['retry-after'])).toBeLessThanOrEqual(30);
    // The right password from the same address is refused while it waits, with the same answer.
    expect((await new ConsoleClient(app).signIn(name, PASSWORD)).statusCode).toBe(429);
  });
});

describe('two-factor sign-in (TOTP)', () => {
  const codeAt = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

  it('enrols with a QR code, then needs a code at sign-in; a recovery code works once', async () => {
    const c = new ConsoleClient(app);
    await c.signIn(tree.resellerA.adminUser.name, PASSWORD);
    const enrol = await c.post('/api/console/account/totp/enrol');
    expect(enrol.statusCode).toBe(200);
    const { secret, otpauthUrl, qrCodeDataUrl } = enrol.json();
    expect(otpauthUrl).toContain(`secret=${secret}`);
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const stored = await t.db
      .selectFrom('user_totp')
      .select('secret_sealed')
      .where('user_id', '=', tree.resellerA.adminUser.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret_sealed).not.toContain(secret);

    const other = new ConsoleClient(app);
    await other.signIn(tree.resellerA.adminUser.name, PASSWORD);
    expect((await c.post('/api/console/account/totp/verify', { code: '000000' })).json().error).toMatchObject({
      code: 'ValidationError',
      field: 'code',
    });
    const verified = await c.post('/api/console/account/totp/verify', { code: codeAt(secret, clock.ms) });
    expect(verified.statusCode).toBe(200);
    const recovery: string[] = verified.json().recoveryCodes;
    expect(recovery).toHaveLength(10);
    expect((await c.get('/api/console/account/totp')).json()).toEqual({ enabled: true, recoveryCodesLeft: 10 });

    const name = tree.resellerA.adminUser.name;
    const without = await new ConsoleClient(app).signIn(name, PASSWORD);
    expect(without.statusCode).toBe(401);
    expect(without.json().error).toMatchObject({ code: 'TotpRequired', field: 'totpCode' });
    clock.advance(1);
    const withCode = await new ConsoleClient(app).signIn(name, PASSWORD, { totpCode: codeAt(secret, clock.ms) });
    expect(withCode.statusCode).toBe(200);
    expect(withCode.json().user.totpEnabled).toBe(true);
    // The same code is not accepted twice.
    expect((await new ConsoleClient(app).signIn(name, PASSWORD, { totpCode: codeAt(secret, clock.ms) })).statusCode).toBe(401);

    expect((await new ConsoleClient(app).signIn(name, PASSWORD, { recoveryCode: recovery[0]! })).statusCode).toBe(200);
    expect((await new ConsoleClient(app).signIn(name, PASSWORD, { recoveryCode: recovery[0]! })).statusCode).toBe(401);
    // Turning two-factor on ended the sessions opened without it, but not the one that turned it on.
    expect((await other.get('/api/console/account/totp')).statusCode).toBe(401);
    expect((await c.get('/api/console/account/totp')).json()).toEqual({ enabled: true, recoveryCodesLeft: 9 });
  });
});
