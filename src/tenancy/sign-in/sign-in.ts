import { sql } from 'kysely';
import type { Executor } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { hashPassword, verifyPassword } from '../../core/crypto.js';
import type { Caller } from '../caller.js';
import { callerForUser, disabledReason } from '../auth.service.js';

/**
 * One sign-in for every entry point (HTTP Basic on the CortexAPI and console endpoints, the console's
 * own sign-in). See docs/security.md "Authentication":
 * - failures are counted per (login, client address) and per client address; past a few free
 *   failures each further attempt waits an exponentially growing delay (30 s doubling to 15 min), refused meanwhile with
 *   NotAuthenticated carrying `details.retryAfterSeconds` (HTTP 429 + Retry-After at the edges) — nobody can lock an account, only slow guesses down
 *   from where they come;
 * - an address the user signed in from before is not held back by other users' failures there;
 * - an unknown login costs the same scrypt work as a wrong password, so timing does not tell
 *   whether a user exists; the error never says which part was wrong.
 */
export interface SignInAttempt {
  login: string;
  password: string;
  /** The client's address (behind trusted proxies: from X-Forwarded-For; see TENANTRY_TRUSTED_PROXIES). */
  address: string;
}

export const SIGN_IN_THROTTLE = {
  /** Failures of one login from one address before delays start. */
  pairFreeFailures: 5,
  /** Failures from one address over all logins before delays start for logins not known there. */
  addressFreeFailures: 100,
  firstDelayMs: 30_000,
  maxDelayMs: 15 * 60 * 1000,
  /** A counter without a failure for this long starts again from zero. */
  forgetAfterMs: 24 * 60 * 60 * 1000,
  /** A successful sign-in makes its address "known" to the user for this long. */
  knownAddressMs: 90 * 24 * 60 * 60 * 1000,
};

const notAuthenticated = (): DomainError => new DomainError('NotAuthenticated', 'The user authentication failed');

let dummyHash: Promise<string> | undefined;
/** A hash with the real parameters, verified for unknown logins so they take as long as known ones. */
const dummy = (): Promise<string> => (dummyHash ??= hashPassword('no user has this password'));

export async function signIn(db: Executor, attempt: SignInAttempt, now = new Date()): Promise<Caller> {
  const login = attempt.login.trim().toLowerCase();
  const address = normaliseAddress(attempt.address);
  if (!login || !attempt.password) throw notAuthenticated();
  const user = await findLogin(db, login);
  const known = await isKnownAddress(db, user?.id ?? -1, address, now);
  await countAttempt(db, `user:${login}|${address}`, SIGN_IN_THROTTLE.pairFreeFailures, now);
  if (!known) await countAttempt(db, `address:${address}`, SIGN_IN_THROTTLE.addressFreeFailures, now);
  const ok = await verifyPassword(attempt.password, user?.password_hash ?? (await dummy()));
  if (!user || !ok) throw notAuthenticated();
  const caller = await callerForUser(db, user.id);
  // The password was right: saying that the user (or its customer) is disabled tells nothing a guesser could use.
  if (!caller) throw new DomainError('NotAuthenticated', 'The user authentication failed', { disabled: await disabledReason(db, user.id) });
  await db.deleteFrom('sign_in_throttle').where('key', '=', `user:${login}|${address}`).execute();
  // The attempt counted against the address in advance was no failure after all.
  if (!known)
    await db
      .updateTable('sign_in_throttle')
      .set((eb) => ({ failures: sql`greatest(${eb.ref('failures')} - 1, 0)` }))
      .where('key', '=', `address:${address}`)
      .execute();
  await db
    .insertInto('sign_in_addresses')
    .values({ user_id: user.id, address, last_success_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'address']).doUpdateSet({ last_success_at: now }))
    .execute();
  await db.updateTable('users').set({ last_login_at: now }).where('id', '=', user.id).execute();
  return caller;
}

/**
 * Counts a failure found after the password (a wrong second factor) against the login and address,
 * as a wrong password would be; refuses with the wait when the pair is already waiting.
 */
export async function recordSignInFailure(db: Executor, attempt: Omit<SignInAttempt, 'password'>, now = new Date()): Promise<void> {
  await countAttempt(
    db,
    `user:${attempt.login.trim().toLowerCase()}|${normaliseAddress(attempt.address)}`,
    SIGN_IN_THROTTLE.pairFreeFailures,
    now,
  );
}

/**
 * The user a login names: a user name or UPN; the provider's admin also by the bare name it was
 * configured with ("admin" for "admin_SP"). An exact name wins over a prefix match.
 */
async function findLogin(db: Executor, login: string): Promise<{ id: number; password_hash: string | null } | undefined> {
  const candidates = await db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.id', 'users.password_hash', 'users.name'])
    .where('users.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['users.name']), '=', login),
        eb(eb.fn('lower', ['users.upn']), '=', login),
        eb.and([
          eb('customers.parent_id', 'is', null),
          eb(eb.fn('lower', ['users.name']), 'like', `${login.replace(/[\\%_]/g, '\\$&')}\\_%`),
        ]),
      ]),
    )
    .orderBy('users.id')
    .execute();
  return candidates.find((c) => c.name.toLowerCase() === login) ?? candidates[0];
}

async function isKnownAddress(db: Executor, userId: number, address: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('sign_in_addresses')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('address', '=', address)
    .where('last_success_at', '>', new Date(now.getTime() - SIGN_IN_THROTTLE.knownAddressMs))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Counts an attempt before the password is checked, atomically, so a burst of parallel guesses
 * cannot all pass before the first failure is written. While a key waits, attempts are refused
 * uncounted. A success deletes the pair's counter afterwards.
 */
async function countAttempt(db: Executor, key: string, free: number, now: Date): Promise<void> {
  const t = SIGN_IN_THROTTLE;
  const forgetBefore = new Date(now.getTime() - t.forgetAfterMs);
  const next = sql<number>`case when s.last_failure_at < ${forgetBefore}::timestamptz then 1 else s.failures + 1 end`;
  const waitUntil = (n: unknown) =>
    sql<Date | null>`case when ${n} >= ${free}::int then ${now}::timestamptz + (round(least(${t.firstDelayMs}::float8 * power(2::float8, (${n} - ${free}::int)::float8), ${t.maxDelayMs}::float8))::bigint::text || ' milliseconds')::interval end`;
  const waiting = sql<boolean>`s.blocked_until is not null and s.blocked_until > ${now}::timestamptz`;
  const { rows } = await sql<{ counted: boolean; blocked_until: Date | null }>`
    insert into sign_in_throttle as s (key, failures, last_failure_at, blocked_until, counted)
    values (${key}, 1, ${now}, ${waitUntil(sql`1`)}, true)
    on conflict (key) do update set
      failures = case when ${waiting} then s.failures else ${next} end,
      last_failure_at = case when ${waiting} then s.last_failure_at else ${now} end,
      blocked_until = case when ${waiting} then s.blocked_until else ${waitUntil(next)} end,
      counted = not (${waiting})
    returning counted, blocked_until`.execute(db);
  const row = rows[0]!;
  if (Math.random() < 0.01) await db.deleteFrom('sign_in_throttle').where('last_failure_at', '<', forgetBefore).execute();
  if (row.counted) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((new Date(row.blocked_until!).getTime() - now.getTime()) / 1000));
  throw new DomainError(
    'NotAuthenticated',
    `The user authentication failed: too many failed sign-ins, try again in ${retryAfterSeconds} seconds.`,
    { retryAfterSeconds },
  );
}

/** "::ffff:10.0.0.1" and "10.0.0.1" are one client. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
