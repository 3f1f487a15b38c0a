import { createHmac, randomBytes } from 'node:crypto';
import type { Executor } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { authenticate, callerForUser } from '../tenancy/auth.service.js';
import type { Caller } from '../tenancy/caller.js';
import type { AppContext } from '../core/context.js';

/** Failed logins allowed per window before further attempts are refused without checking. */
export interface RateLimits {
  perUser: number;
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perUser: 10, perAddress: 30, windowMs: 15 * 60 * 1000 };

const notAuthenticated = (): DomainError => new DomainError('NotAuthenticated', 'The user authentication failed');
const MAX_TRACKED = 10_000;
// scrypt takes tens of milliseconds by design; integrations send thousands of calls with the
// same credentials, so a verified pair is remembered briefly (as an HMAC under a per-process key).
const CACHE_TTL_MS = 60_000;
// The caller (roles, enabled user and customer) is re-read this often at most: a disabled user or
// a revoked "API Access" takes effect within seconds, while a busy integration skips two queries a call.
const CALLER_TTL_MS = 5_000;

/** Counts failures in a fixed window per key; bounded so a flood of names cannot grow it forever. */
class FailureCounter {
  private readonly seen = new Map<string, { count: number; since: number }>();
  constructor(private readonly max: number, private readonly windowMs: number) {}

  blocked(key: string, now: number): boolean {
    const e = this.seen.get(key);
    return e !== undefined && now - e.since < this.windowMs && e.count >= this.max;
  }

  fail(key: string, now: number): void {
    const e = this.seen.get(key);
    if (e && now - e.since < this.windowMs) e.count++;
    else this.seen.set(key, { count: 1, since: now });
    if (this.seen.size > MAX_TRACKED) this.prune(now);
  }

  clear(key: string): void {
    this.seen.delete(key);
  }

  private prune(now: number): void {
    for (const [k, e] of this.seen) if (now - e.since >= this.windowMs) this.seen.delete(k);
    while (this.seen.size > MAX_TRACKED) this.seen.delete(this.seen.keys().next().value!);
  }
}

/**
 * HTTP Basic authentication of Tenantry users (CortexAPI, console endpoints). Failed attempts are
 * limited per user name and per client address, on top of the account lockout in `authenticate`,
 * so guessing costs no scrypt work once a limit is hit. Callers check permissions themselves.
 */
export class BasicAuthenticator {
  private readonly byUser: FailureCounter;
  private readonly byAddress: FailureCounter;
  private readonly verified = new Map<string, { userId: number; expires: number; caller?: { value: Caller; expires: number } }>();
  private readonly key = randomBytes(32);

  constructor(private readonly db: Executor, limits: RateLimits = DEFAULT_RATE_LIMITS, private readonly now: () => number = Date.now) {
    this.byUser = new FailureCounter(limits.perUser, limits.windowMs);
    this.byAddress = new FailureCounter(limits.perAddress, limits.windowMs);
  }

  async authenticate(header: string | undefined, address: string): Promise<Caller> {
    const credentials = parseBasic(header);
    if (!credentials) throw notAuthenticated();
    const userKey = credentials.login.trim().toLowerCase();
    const now = this.now();
    if (this.byUser.blocked(userKey, now) || this.byAddress.blocked(address, now)) {
      throw new DomainError('NotAuthenticated', 'The user authentication failed: too many failed attempts, try again later');
    }
    return (await this.fromCache(credentials, now)) ?? (await this.verify(credentials, userKey, address, now));
  }

  private async fromCache(c: Credentials, now: number): Promise<Caller | undefined> {
    const hit = this.verified.get(this.digest(c));
    if (!hit || hit.expires <= now) return undefined;
    if (hit.caller && hit.caller.expires > now) return hit.caller.value;
    const caller = await callerForUser(this.db, hit.userId);
    if (!caller) throw notAuthenticated();
    hit.caller = { value: caller, expires: now + CALLER_TTL_MS };
    return caller;
  }

  private async verify(c: Credentials, userKey: string, address: string, now: number): Promise<Caller> {
    let caller: Caller;
    try {
      caller = await authenticate(this.db, c.login, c.password);
    } catch (e) {
      if (e instanceof DomainError && e.code === 'NotAuthenticated') {
        this.byUser.fail(userKey, now);
        this.byAddress.fail(address, now);
      }
      throw e;
    }
    this.byUser.clear(userKey);
    if (this.verified.size >= MAX_TRACKED) this.verified.clear();
    if (caller.userId !== null) {
      this.verified.set(this.digest(c), { userId: caller.userId, expires: now + CACHE_TTL_MS, caller: { value: caller, expires: now + CALLER_TTL_MS } });
    }
    return caller;
  }

  private digest(c: Credentials): string {
    return createHmac('sha256', this.key).update(c.login.toLowerCase()).update('\0').update(c.password).digest('base64');
  }
}

interface Credentials {
  login: string;
  password: string;
}

function parseBasic(header: string | undefined): Credentials | undefined {
  const m = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const shared = new WeakMap<AppContext, BasicAuthenticator>();

/** One authenticator per running process, so failure counts hold across every Basic-auth endpoint. */
export function basicAuthenticator(ctx: AppContext): BasicAuthenticator {
  let auth = shared.get(ctx);
  if (!auth) shared.set(ctx, (auth = new BasicAuthenticator(ctx.db)));
  return auth;
}
