import { createHmac, randomBytes } from 'node:crypto';
import type { Executor } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { callerForUser } from '../tenancy/auth.service.js';
import type { Caller } from '../tenancy/caller.js';
import type { AppContext } from '../core/context.js';
import { recordSignInFailure, signIn } from '../tenancy/sign-in/sign-in.js';
import { onCredentialsChanged, type CredentialChange } from '../tenancy/sign-in/credential-events.js';

const notAuthenticated = (): DomainError => new DomainError('NotAuthenticated', 'The user authentication failed');
const MAX_CACHED = 10_000;
// scrypt takes tens of milliseconds by design; integrations send thousands of calls with the
// same credentials, so a verified pair is remembered briefly (as an HMAC under a per-process key).
// A change to the user's credentials drops it at once (credential-events); the TTLs are a backstop.
const CACHE_TTL_MS = 60_000;
const CALLER_TTL_MS = 5_000;

interface Verified {
  userId: number;
  customerPath: string;
  expires: number;
  caller?: { value: Caller; expires: number };
}

/**
 * HTTP Basic authentication of Tenantry users (CortexAPI, console endpoints) on top of `signIn`,
 * which throttles failures. Callers check permissions themselves.
 */
export class BasicAuthenticator {
  private readonly verified = new Map<string, Verified>();
  private readonly key = randomBytes(32);

  constructor(
    private readonly db: Executor,
    private readonly now: () => number = Date.now,
  ) {
    onCredentialsChanged((change) => this.forget(change));
  }

  async authenticate(header: string | undefined, address: string): Promise<Caller> {
    const credentials = parseBasic(header);
    if (!credentials) throw notAuthenticated();
    const now = this.now();
    return (await this.fromCache(credentials, now)) ?? (await this.verify(credentials, address, now));
  }

  /** The console's sign-in: the same throttled domain check, without the cache (a sign-in happens once per session). */
  signIn(login: string, password: string, address: string): Promise<Caller> {
    return signIn(this.db, { login, password, address });
  }

  /** Counts a failed second step of a sign-in (a wrong two-factor code) like a wrong password. */
  recordFailure(login: string, address: string): Promise<void> {
    return recordSignInFailure(this.db, { login, address });
  }

  /** Drops cached sign-ins of a changed user, of every user below a changed customer, or all of them. */
  forget(change: CredentialChange): void {
    if (change.userId === undefined && change.customerId === undefined) return this.verified.clear();
    for (const [k, v] of this.verified) {
      if (v.userId === change.userId || (change.customerId !== undefined && v.customerPath.includes(`/${change.customerId}/`)))
        this.verified.delete(k);
    }
  }

  private async fromCache(c: Credentials, now: number): Promise<Caller | undefined> {
    const digest = this.digest(c);
    const hit = this.verified.get(digest);
    if (!hit || hit.expires <= now) return undefined;
    if (hit.caller && hit.caller.expires > now) return hit.caller.value;
    const caller = await callerForUser(this.db, hit.userId);
    if (!caller) {
      this.verified.delete(digest);
      throw notAuthenticated();
    }
    hit.caller = { value: caller, expires: now + CALLER_TTL_MS };
    return caller;
  }

  private async verify(c: Credentials, address: string, now: number): Promise<Caller> {
    const caller = await signIn(this.db, { login: c.login, password: c.password, address });
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    if (caller.userId !== null) {
      this.verified.set(this.digest(c), {
        userId: caller.userId,
        customerPath: caller.customerPath,
        expires: now + CACHE_TTL_MS,
        caller: { value: caller, expires: now + CALLER_TTL_MS },
      });
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

/** One authenticator per running process, so every Basic-auth endpoint shares its cache. */
export function basicAuthenticator(ctx: AppContext): BasicAuthenticator {
  let auth = shared.get(ctx);
  if (!auth) shared.set(ctx, (auth = new BasicAuthenticator(ctx.db)));
  return auth;
}
