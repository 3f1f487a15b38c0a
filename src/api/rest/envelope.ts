import type { FastifyReply } from 'fastify';
import { DomainError, type DomainErrorName } from '../../core/errors.js';

/** seed 000: every External API answer is wrapped in this envelope. */
export interface Envelope<T> {
  data: T | null;
  errorMessage: string | null;
  success: boolean;
  responseCode: number;
}

/*
 * Domain error → HTTP status. Partial on purpose: the error list grows with other modules and an
 * unknown name is a server error (500) until it is mapped here.
 */
const REST_STATUS = {
  ValidationError: 400,
  InvalidInteger: 400,
  InvalidBoolean: 400,
  NotAuthenticated: 401,
  NotAuthorized: 403,
  NotFound: 404,
  CustomerNotFound: 404,
  UserNotFound: 404,
  ServiceNotFound: 404,
  InvalidStatus: 409,
  Conflict: 409,
  InvalidUser: 400,
  InvalidXmlFormat: 400,
  LimitExceeded: 413,
  TooManyRequests: 429,
  Overloaded: 503,
  TimedOut: 503,
} satisfies Partial<Record<DomainErrorName, number>>;

export function statusOf(error: DomainError): number {
  return (REST_STATUS as Partial<Record<DomainErrorName, number>>)[error.code] ?? 500;
}

/** A refusal that resending can cure later says when (429/503). */
export function retryAfter(reply: FastifyReply, e: DomainError): void {
  const seconds = e.details.retryAfterSeconds;
  if (typeof seconds === 'number') reply.header('Retry-After', String(Math.max(1, Math.ceil(seconds))));
}

export function ok<T>(data: T): Envelope<T> {
  return { data, errorMessage: null, success: true, responseCode: 200 };
}

/** Sends an error in the envelope: a domain error with its status and message, anything else as 500 without internals. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof DomainError) {
    const status = statusOf(e);
    if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
    retryAfter(reply, e);
    return reply.code(status).send({ data: null, errorMessage: e.message, success: false, responseCode: status } satisfies Envelope<null>);
  }
  reply.log.error({ err: e }, 'external API request failed');
  return reply.code(500).send({
    data: null,
    errorMessage: `An internal error occurred; see the server log (request id ${reply.request.id}).`,
    success: false,
    responseCode: 500,
  } satisfies Envelope<null>);
}
