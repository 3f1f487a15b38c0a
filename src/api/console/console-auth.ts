import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import type { Caller } from '../../tenancy/caller.js';
import { resumeSession, type ConsoleSession, type SessionClock } from '../../tenancy/sessions/session.service.js';
import { basicAuthenticator } from '../basic-auth.js';
import { ConsoleEdgeError } from './errors.js';

export const SESSION_COOKIE = 'tenantry_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Who is calling a console endpoint, and through which door. */
export interface ConsoleAuth {
  caller: Caller;
  /** Present when the session cookie authenticated the call. */
  session?: ConsoleSession & { token: string };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates console calls: the session cookie (CSRF token required on state-changing calls) or,
 * for scripts, HTTP Basic with the same limits as the CortexAPI. One per process (see `consoleGate`).
 */
export class ConsoleGate {
  private readonly csrfKey: Buffer;

  constructor(
    private readonly ctx: AppContext,
    readonly clock: SessionClock,
    /** How often an open live stream says it is alive (so proxies keep it) and re-checks its session. */
    readonly streamCheckMs = 25_000,
  ) {
    this.csrfKey = ctx.secrets.derive('console-csrf');
  }

  async authenticate(req: FastifyRequest): Promise<ConsoleAuth> {
    const token = sessionToken(req);
    if (token) {
      const session = await resumeSession(this.ctx.db, token, this.clock);
      if (!SAFE_METHODS.has(req.method) && !this.csrfMatches(token, req.headers[CSRF_HEADER])) {
        throw new ConsoleEdgeError(
          403,
          'CsrfTokenInvalid',
          'The X-CSRF-Token header is missing or does not match this session: reload the page.',
        );
      }
      return { caller: session.caller, session: { ...session, token } };
    }
    if (req.headers.authorization) return { caller: await basicAuthenticator(this.ctx).authenticate(req.headers.authorization, req.ip) };
    throw new DomainError('NotAuthenticated', 'You are not signed in.');
  }

  /** The CSRF token of a session: derived from its token, so nothing more is stored and it cannot be guessed. */
  csrfToken(sessionToken: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionToken).digest('base64url');
  }

  private csrfMatches(token: string, header: string | string[] | undefined): boolean {
    if (typeof header !== 'string' || header === '') return false;
    const expected = Buffer.from(this.csrfToken(token));
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function sessionToken(req: FastifyRequest): string | undefined {
  const value = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[SESSION_COOKIE];
  return value && /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Secure when the call came over HTTPS (directly or via a trusted proxy). */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https', path: '/' });
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https', path: '/' });
}

const gates = new WeakMap<AppContext, ConsoleGate>();

/**
 * The process's gate. Tests pass a clock before the server is built to move time without waiting
 * (and may slow the streams' session checks, so that only the step under test notices an expiry);
 * otherwise the idle limit comes from TENANTRY_SESSION_IDLE_MINUTES.
 */
export function consoleGate(ctx: AppContext, clock?: Partial<SessionClock> & { streamCheckMs?: number }): ConsoleGate {
  let gate = gates.get(ctx);
  if (!gate || clock) {
    gate = new ConsoleGate(
      ctx,
      { idleMs: clock?.idleMs ?? ctx.config.sessionIdleMinutes * 60_000, now: clock?.now ?? (() => new Date()) },
      clock?.streamCheckMs,
    );
    gates.set(ctx, gate);
  }
  return gate;
}
