import { randomBytes } from 'node:crypto';
import type { Executor } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { sha256Hex } from '../../core/crypto.js';
import { callerForUser, disabledReason } from '../auth.service.js';
import type { Caller } from '../caller.js';
import type { SessionEndReason } from './schema.js';

/** How sessions age; `now` is injectable so idle expiry is tested without waiting. */
export interface SessionClock {
  idleMs: number;
  now: () => Date;
}

export interface ConsoleSession {
  id: number;
  caller: Caller;
  expiresAt: Date;
}

// A busy console calls several times a second: the last-seen time is written at most this often.
const TOUCH_EVERY_MS = 60_000;

type SignedOutReason = 'expired' | 'missing' | SessionEndReason;

const SIGNED_OUT_MESSAGE: Record<SignedOutReason, string> = {
  expired: 'Your session has expired: sign in again.',
  missing: 'You are not signed in.',
  'disabled-user': 'Your session has ended: your user has been disabled. Ask your administrator.',
  'disabled-customer': 'Your session has ended: your customer has been disabled. Ask your service provider.',
};

/** NotAuthenticated with `details.reason`; the edges tell a disabled account from an expired session by it. */
export const signedOut = (reason: SignedOutReason): DomainError =>
  new DomainError('NotAuthenticated', SIGNED_OUT_MESSAGE[reason], { reason });

/** Starts a session for a user who has just proven who they are; returns the token for the cookie. */
export async function startSession(
  db: Executor,
  userId: number,
  clock: SessionClock,
  client: { address: string; userAgent: string },
): Promise<{ token: string; session: ConsoleSession }> {
  const token = randomBytes(32).toString('base64url');
  const now = clock.now();
  // Sessions nobody can resume any more are cleared as new ones start: the table holds live sessions only.
  await purgeIdleSessions(db, clock);
  const row = await db
    .insertInto('console_sessions')
    .values({
      token_hash: sha256Hex(token),
      user_id: userId,
      address: client.address.slice(0, 100),
      user_agent: client.userAgent.slice(0, 300),
      created_at: now,
      last_seen_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const caller = await callerForUser(db, userId);
  if (!caller) throw signedOut(await endDisabledSessions(db, userId));
  return { token, session: { id: row.id, caller, expiresAt: new Date(now.getTime() + clock.idleMs) } };
}

/**
 * The session a cookie's token names, with its caller read afresh: a session idle too long, or of a
 * user who has been disabled or deleted (or whose customer has), ends here at once.
 */
export async function resumeSession(db: Executor, token: string, clock: SessionClock): Promise<ConsoleSession> {
  const row = await db
    .selectFrom('console_sessions')
    .select(['id', 'user_id', 'last_seen_at', 'ended_reason'])
    .where('token_hash', '=', sha256Hex(token))
    .executeTakeFirst();
  if (!row) throw signedOut('missing');
  const now = clock.now();
  if (now.getTime() - row.last_seen_at.getTime() >= clock.idleMs) {
    await db.deleteFrom('console_sessions').where('id', '=', row.id).execute();
    throw signedOut('expired');
  }
  if (row.ended_reason) throw signedOut(row.ended_reason);
  const caller = await callerForUser(db, row.user_id);
  if (!caller) throw signedOut(await endDisabledSessions(db, row.user_id));
  if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await db.updateTable('console_sessions').set({ last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return { id: row.id, caller, expiresAt: new Date(now.getTime() + clock.idleMs) };
}

export async function endSession(db: Executor, token: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('token_hash', '=', sha256Hex(token)).execute();
}

/** Ends every console session of a user (disabled, deleted, password reset or second factor changed). */
export async function endSessionsOfUser(db: Executor, userId: number, exceptSessionId?: number): Promise<void> {
  let q = db.deleteFrom('console_sessions').where('user_id', '=', userId);
  if (exceptSessionId !== undefined) q = q.where('id', '<>', exceptSessionId);
  await q.execute();
}

/**
 * Ends every session of a user who may no longer act. A disabled user's sessions stay, ended, with
 * the reason (every open tab then says why); a deleted user's go.
 */
async function endDisabledSessions(db: Executor, userId: number): Promise<SignedOutReason> {
  const disabled = await disabledReason(db, userId);
  if (!disabled) {
    await endSessionsOfUser(db, userId);
    return 'missing';
  }
  const reason: SessionEndReason = disabled === 'user' ? 'disabled-user' : 'disabled-customer';
  await db
    .updateTable('console_sessions')
    .set({ ended_reason: reason })
    .where('user_id', '=', userId)
    .where('ended_reason', 'is', null)
    .execute();
  return reason;
}

/** Removes sessions idle longer than the limit (they could never be resumed). */
export async function purgeIdleSessions(db: Executor, clock: SessionClock): Promise<number> {
  const rows = await db
    .deleteFrom('console_sessions')
    .where('last_seen_at', '<', new Date(clock.now().getTime() - clock.idleMs))
    .returning('id')
    .execute();
  return rows.length;
}

/**
 * Why an open session may no longer be used (expired, ended, user or customer disabled), or undefined
 * while it may; for long-lived calls (the live feed) that authenticated once. Changes nothing but
 * marking a disabled user's sessions ended.
 */
export async function sessionEnded(db: Executor, sessionId: number, clock: SessionClock): Promise<DomainError | undefined> {
  const row = await db
    .selectFrom('console_sessions')
    .select(['user_id', 'last_seen_at', 'ended_reason'])
    .where('id', '=', sessionId)
    .executeTakeFirst();
  if (!row) return signedOut('missing');
  if (clock.now().getTime() - row.last_seen_at.getTime() >= clock.idleMs) return signedOut('expired');
  if (row.ended_reason) return signedOut(row.ended_reason);
  if (await callerForUser(db, row.user_id)) return undefined;
  return signedOut(await endDisabledSessions(db, row.user_id));
}
