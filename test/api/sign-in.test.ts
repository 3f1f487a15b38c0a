import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, PASSWORD, type Tenant } from '../support/fixtures.js';
import { TEST_ADMIN, TEST_ENGINE } from '../support/engine.js';
import { inTransaction } from '../../src/core/db/database.js';
import { DomainError } from '../../src/core/errors.js';
import { createUser, setRoles, updateUser } from '../../src/tenancy/user.service.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';
import { signIn, SIGN_IN_THROTTLE } from '../../src/tenancy/sign-in/sign-in.js';
import { startCortex, errorOf, request, type CortexClient } from '../cortex/support.js';

let t: TestContext;
let api: CortexClient;
let tenant: Tenant;

beforeAll(async () => {
  t = await openTestContext();
  tenant = await makeTenant(t.db, t.admin, { fullname: 'Sign In Probe' });
  api = await startCortex(t);
});
afterAll(async () => {
  await api?.close();
  await t?.close();
});

const newUser = async (name: string) =>
  (
    await inTransaction(t.db, (tx) =>
      createUser(tx, t.admin, tenant.customer, { name, password: { password: PASSWORD }, roles: [ROLE.customerAdmin] }),
    )
  ).user;
const outcome = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return e.details.retryAfterSeconds !== undefined ? `wait ${String(e.details.retryAfterSeconds)}` : e.code;
  }
};

describe('throttling slows guesses from where they come and never locks the owner out', () => {
  it('after the free failures an address waits a doubling delay; the owner elsewhere is not held back; the wait ends', async () => {
    const victim = await newUser('victim');
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    const guess = (ms: number, password = 'wrong', address = '203.0.113.9') =>
      outcome(signIn(t.db, { login: victim.name, password, address }, at(ms)));
    for (let i = 0; i < SIGN_IN_THROTTLE.pairFreeFailures; i++) expect(await guess(0)).toBe('NotAuthenticated');
    expect(await guess(10)).toBe('wait 30');
    expect(await guess(20, PASSWORD)).toBe('wait 30');
    // The owner from another address is not affected by the attacker's failures.
    expect(await guess(30, PASSWORD, '198.51.100.7')).toBe('ok');
    expect(await guess(30_000)).toBe('NotAuthenticated');
    expect(await guess(31_000)).toBe('wait 59');
    expect(await guess(90_000)).toBe('NotAuthenticated');
    expect(await guess(90_001)).toBe('wait 120');
    // Never longer than the cap, however long the guessing goes on.
    let ms = 90_000;
    for (let i = 0; i < 8; i++) expect(await guess((ms += SIGN_IN_THROTTLE.maxDelayMs)), `round ${i}`).toBe('NotAuthenticated');
    expect(await guess(ms + 1)).toBe(`wait ${SIGN_IN_THROTTLE.maxDelayMs / 1000}`);
    // Once the wait is over, the right password works from the attacker's address too, and resets the count there.
    expect(await guess((ms += SIGN_IN_THROTTLE.maxDelayMs), PASSWORD)).toBe('ok');
    expect(await guess(ms + 1)).toBe('NotAuthenticated');
  });

  it('one address spraying many logins is slowed for logins not known there; a user who signed in there before is not', async () => {
    const regular = await newUser('regular');
    const newcomer = await newUser('newcomer');
    const address = '192.0.2.44';
    const at = new Date(Date.UTC(2026, 1, 1));
    expect(await outcome(signIn(t.db, { login: regular.name, password: PASSWORD, address }, at))).toBe('ok');
    for (let i = 0; i < SIGN_IN_THROTTLE.addressFreeFailures; i++) {
      await outcome(signIn(t.db, { login: `spray${i}`, password: 'x', address }, at));
    }
    expect(await outcome(signIn(t.db, { login: newcomer.name, password: PASSWORD, address }, at))).toMatch(/^wait /);
    expect(await outcome(signIn(t.db, { login: regular.name, password: PASSWORD, address }, at))).toBe('ok');
    expect(await outcome(signIn(t.db, { login: newcomer.name, password: PASSWORD, address: '192.0.2.45' }, at))).toBe('ok');
  });

  it('the provider admin cannot be locked out: guesses from five addresses behind a proxy, then the owner signs in', async () => {
    const viaProxy = await startCortex(await contextWithProxies(['127.0.0.1']));
    try {
      const from = (address: string, password: string) =>
        viaProxy.post(request('GET', '<identity/>'), { user: TEST_ADMIN.user, password }, { 'x-forwarded-for': address });
      for (let a = 0; a < 5; a++) for (let i = 0; i < 6; i++) await from(`10.9.0.${a}`, `guess${i}`);
      const blocked = await from('10.9.0.0', TEST_ADMIN.password);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(errorOf(blocked)?.id).toBe(11);
      expect((await from('198.51.100.20', TEST_ADMIN.password)).status).toBe(200);
    } finally {
      await viaProxy.close();
    }
  });

  it('X-Forwarded-For is ignored unless the peer is a trusted proxy (TENANTRY_TRUST_PROXY)', async () => {
    const user = await newUser('xff');
    for (let i = 0; i < SIGN_IN_THROTTLE.pairFreeFailures; i++) {
      await api.post(request('GET', '<identity/>'), { user: user.name, password: 'nope' }, { 'x-forwarded-for': `172.16.0.${i}` });
    }
    // Each forged header was ignored: all five counted against 127.0.0.1, so the sixth waits.
    expect(
      (await api.post(request('GET', '<identity/>'), { user: user.name, password: PASSWORD }, { 'x-forwarded-for': '172.16.1.1' })).status,
    ).toBe(429);
    const viaProxy = await startCortex(await contextWithProxies(['127.0.0.1']));
    try {
      expect(
        (await viaProxy.post(request('GET', '<identity/>'), { user: user.name, password: PASSWORD }, { 'x-forwarded-for': '172.16.1.1' }))
          .status,
      ).toBe(200);
    } finally {
      await viaProxy.close();
    }
  });
});

async function contextWithProxies(proxies: string[]): Promise<TestContext> {
  return { ...t, ctx: { ...t.ctx, config: { ...t.ctx.config, trustProxy: proxies } } };
}

describe('login timing does not tell whether a user exists', () => {
  it('unknown users and wrong passwords take overlapping times', async () => {
    const known = await newUser('timing');
    const unknown: number[] = [];
    const wrong: number[] = [];
    const time = async (login: string, i: number) => {
      const start = performance.now();
      await outcome(signIn(t.db, { login, password: 'wrong-password', address: `100.64.${Math.floor(i / 200)}.${i % 200}` }));
      return performance.now() - start;
    };
    for (let i = 0; i < 30; i++) {
      wrong.push(await time(known.name, 2 * i));
      unknown.push(await time(`nobody${i}_${tenant.customer.name}`, 2 * i + 1));
    }
    const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
    console.log(
      `sign-in timing ms: unknown p10/p50/p90 ${[0.1, 0.5, 0.9].map((p) => q(unknown, p).toFixed(1)).join('/')}; wrong password ${[0.1, 0.5, 0.9].map((p) => q(wrong, p).toFixed(1)).join('/')}`,
    );
    // Overlap both ways: each distribution's median lies inside the other's 10–90% range.
    expect(q(unknown, 0.5)).toBeGreaterThanOrEqual(q(wrong, 0.1));
    expect(q(unknown, 0.5)).toBeLessThanOrEqual(q(wrong, 0.9));
    expect(q(wrong, 0.5)).toBeGreaterThanOrEqual(q(unknown, 0.1));
    expect(q(wrong, 0.5)).toBeLessThanOrEqual(q(unknown, 0.9));
  });
});

describe('cached credentials follow changes at once', () => {
  const identity = (credentials: { user: string; password: string }) => api.post(request('GET', '<identity/>'), credentials);

  it('an old password stops working as soon as the change is answered', async () => {
    const user = await newUser('rotate');
    expect((await identity({ user: user.name, password: PASSWORD })).status).toBe(200);
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${tenant.customer.name}</name><user><name>${user.name}</name><password>N3w-Passw0rd!</password></user></customer>`,
      ),
    );
    expect(errorOf(r)).toBeUndefined();
    expect((await identity({ user: user.name, password: PASSWORD })).status).toBe(401);
    expect((await identity({ user: user.name, password: 'N3w-Passw0rd!' })).status).toBe(200);
  });

  it('disabling a user, taking its API role, or disabling its customer ends cached access at once', async () => {
    const cases: [string, (userId: number) => Promise<unknown>][] = [
      ['disabled user', (id) => inTransaction(t.db, (tx) => updateUser(tx, t.admin, tenant.customer, { id }, { enabled: false }))],
      ['role without API Access', (id) => inTransaction(t.db, (tx) => setRoles(tx, t.admin, id, [ROLE.user]))],
    ];
    for (const [what, change] of cases) {
      const user = await newUser(`cached${cases.findIndex((c) => c[0] === what)}`);
      expect((await identity({ user: user.name, password: PASSWORD })).status, what).toBe(200);
      await change(user.id);
      expect((await identity({ user: user.name, password: PASSWORD })).status, what).toBe(401);
    }
    const other = await makeTenant(t.db, t.admin, { fullname: 'Soon Disabled' });
    const login = { user: other.adminUser.name, password: PASSWORD };
    expect((await identity(login)).status).toBe(200);
    await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: other.customer.id }, { enabled: false }));
    expect((await identity(login)).status).toBe(401);
  });

  it.runIf(TEST_ENGINE === 'postgres')('another process drops its cached password when the change commits (LISTEN/NOTIFY)', async () => {
    const user = await newUser('otherproc');
    const child = await startChild(t.url!);
    try {
      const there = (password: string) =>
        fetch(`${child.url}/CortexAPI/Default.aspx`, {
          method: 'POST',
          body: request('GET', '<identity/>'),
          headers: { authorization: 'Basic ' + Buffer.from(`${user.name}:${password}`).toString('base64') },
        });
      expect((await there(PASSWORD)).status).toBe(200);
      await inTransaction(t.db, (tx) =>
        updateUser(tx, t.admin, tenant.customer, { id: user.id }, { password: { password: 'Oth3r-Passw0rd!' } }),
      );
      // Without the notification the other process would accept the old password for 60 s.
      await vi.waitFor(async () => expect((await there(PASSWORD)).status).toBe(401), { timeout: 20_000, interval: 100 });
      expect((await there('Oth3r-Passw0rd!')).status).toBe(200);
    } finally {
      child.process.kill();
    }
  });
});

async function startChild(url: string): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'server-child.ts')], {
    env: { ...process.env, DATABASE_URL: url, TENANTRY_ADMIN_PASSWORD: TEST_ADMIN.password },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { process: child, url: line.toString().trim() };
}
