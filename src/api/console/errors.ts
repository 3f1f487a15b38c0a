import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorName } from '../../core/errors.js';

/** Console JSON error: the one shape every console endpoint answers with. */
export interface ConsoleErrorBody {
  error: { code: string; message: string; field?: string };
  requestId: string;
}

/** Domain error → HTTP status for the console API (compile-time exhaustive: a new error must be placed). */
const CONSOLE_STATUS = {
  Unknown: 500,
  CustomerError: 400,
  InvalidXmlFormat: 400,
  InvalidAction: 400,
  InvalidNewCustomer: 400,
  InvalidUnlimited: 400,
  InvalidNumericType: 400,
  InvalidService: 400,
  NotAuthenticated: 401,
  NotAuthorized: 403,
  ReportError: 400,
  ReportNotFound: 404,
  InvalidUser: 400,
  UserNotFound: 404,
  InvalidStatus: 409,
  InvalidReference: 404,
  InvalidProperty: 400,
  LocationNotFound: 404,
  ServiceNotFound: 404,
  RoleNotFound: 400,
  LocationError: 400,
  InvalidBoolean: 400,
  CustomerNotFound: 404,
  InvalidAccountExpiration: 400,
  InvalidPasswordExpiration: 400,
  InvalidInteger: 400,
  RequestNotFound: 404,
  Conflict: 409,
  ValidationError: 400,
  NotFound: 404,
  LimitExceeded: 413,
  TooManyRequests: 429,
  Overloaded: 503,
  TimedOut: 503,
} satisfies Record<DomainErrorName, number>;

/** Errors that only exist at the console edge (CSRF, throttling): carry their own wire code and status. */
export class ConsoleEdgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function body(req: FastifyRequest, code: string, message: string, field?: string): ConsoleErrorBody {
  return { error: { code, message, ...(field ? { field } : {}) }, requestId: String(req.id) };
}

/** Sends any error in the console's shape: known errors with their status and message, the rest as a generic 500. */
export function sendConsoleError(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  reply.header('Cache-Control', 'no-store');
  if (e instanceof ConsoleEdgeError) {
    for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
    return reply.code(e.status).send(body(req, e.code, e.message));
  }
  if (e instanceof DomainError) return sendDomainError(req, reply, e);
  const validation = validationOf(e);
  if (validation) return reply.code(400).send(body(req, 'ValidationError', validation.message, validation.field));
  const fe = e as Partial<FastifyError>;
  // Fastify's own 4xx (body too large, bad JSON, wrong content type) are the client's and safe to say.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(body(req, fe.statusCode === 413 ? 'PayloadTooLarge' : 'BadRequest', publicMessage(fe)));
  }
  req.log.error({ err: e }, 'console request failed');
  return reply.code(500).send(body(req, 'InternalError', `An internal error occurred; quote request id ${req.id} to your administrator.`));
}

/** A session that ended (NotAuthenticated with `details.reason`) as the code and message the console shows. */
export function sessionEndedWire(e: DomainError): { code: 'AccountDisabled' | 'NotAuthenticated'; message: string } {
  const reason = e.details.reason;
  return {
    code: reason === 'disabled-user' || reason === 'disabled-customer' ? 'AccountDisabled' : 'NotAuthenticated',
    message: e.message,
  };
}

const DISABLED_MESSAGE = {
  user: 'This user is disabled and cannot sign in: ask your administrator to enable it.',
  customer: "This user's customer is disabled, so its users cannot sign in: ask your service provider.",
};

function sendDomainError(req: FastifyRequest, reply: FastifyReply, e: DomainError): FastifyReply {
  const details = e.details as {
    field?: unknown;
    retryAfterSeconds?: unknown;
    totpRequired?: unknown;
    disabled?: unknown;
    reason?: unknown;
  };
  // A disabled account is told so (the password was right, or the session was already its own).
  if (e.code === 'NotAuthenticated' && (details.disabled === 'user' || details.disabled === 'customer')) {
    return reply.code(401).send(body(req, 'AccountDisabled', DISABLED_MESSAGE[details.disabled]));
  }
  if (e.code === 'NotAuthenticated' && details.reason !== undefined) {
    const ended = sessionEndedWire(e);
    return reply.code(401).send(body(req, ended.code, ended.message));
  }
  if (e.code === 'NotAuthenticated' && typeof details.retryAfterSeconds === 'number') {
    const seconds = Math.max(1, Math.ceil(details.retryAfterSeconds));
    reply.header('Retry-After', String(seconds));
    return reply.code(429).send(body(req, 'TooManyAttempts', `Too many failed sign-ins: try again in ${describeWait(seconds)}.`));
  }
  if (e.code === 'NotAuthenticated' && details.totpRequired === true) {
    return reply.code(401).send(body(req, 'TotpRequired', e.message, 'totpCode'));
  }
  const status = CONSOLE_STATUS[e.code];
  if (typeof details.retryAfterSeconds === 'number') reply.header('Retry-After', String(Math.max(1, Math.ceil(details.retryAfterSeconds))));
  // Only a script that sent Basic credentials is invited to retry with them: a browser would pop up a login dialog.
  if (status === 401 && /^Basic\s/i.test(req.headers.authorization ?? '')) reply.header('WWW-Authenticate', 'Basic realm="tenantry"');
  if (status === 500) {
    req.log.error({ err: e }, 'console request failed');
    return reply
      .code(500)
      .send(body(req, 'InternalError', `An internal error occurred; quote request id ${req.id} to your administrator.`));
  }
  return reply.code(status).send(body(req, e.code, e.message, typeof details.field === 'string' ? details.field : undefined));
}

/** "15 minutes", "1 minute", "40 seconds": the lockout message says for how long. */
export function describeWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** A JSON-schema failure as one field and a sentence a person can act on. */
function validationOf(e: unknown): { field: string | undefined; message: string } | undefined {
  const fe = e as { validation?: AjvIssue[]; validationContext?: string };
  const issue = fe.validation?.[0];
  if (!issue) return undefined;
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  const params = issue.params ?? {};
  if (issue.keyword === 'required' && typeof params.missingProperty === 'string') path.push(params.missingProperty);
  if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { field: [...path, params.additionalProperty].join('.'), message: `'${params.additionalProperty}' is not a known field here.` };
  }
  const field = path.join('.') || undefined;
  const where = field ?? (fe.validationContext === 'body' ? 'The request body' : 'A parameter');
  return { field, message: `${where} ${describeIssue(issue)}.` };
}

/** ajv's wording, except for the limits a client most often runs into, which say the limit in words. */
function describeIssue(issue: AjvIssue): string {
  const limit = issue.params?.limit;
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'maximum' && typeof limit === 'number') return `must be at most ${limit}`;
  if (issue.keyword === 'minimum' && typeof limit === 'number') return `must be at least ${limit}`;
  if (issue.keyword === 'maxLength' && typeof limit === 'number') return `must be at most ${limit} characters long`;
  return issue.message ?? 'is not valid';
}

function publicMessage(e: Partial<FastifyError>): string {
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Send JSON (Content-Type: application/json).';
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'The request body is too large.';
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'The request body is empty; send a JSON object.';
  return 'The request body is not valid JSON.';
}
