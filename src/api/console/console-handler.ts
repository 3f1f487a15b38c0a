import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import type { Permission } from '../../tenancy/permissions.js';
import { basicAuthenticator } from '../basic-auth.js';
import { statusOf } from '../rest/envelope.js';

export type ConsoleAction = (caller: Caller, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Wraps a console JSON endpoint: the user signs in with Basic auth (rate-limited like the
 * CortexAPI), needs `permission` when given, and a domain error becomes `{error: {code, message}}`
 * with its HTTP status.
 */
export function consoleHandler(ctx: AppContext, permission?: Permission) {
  const auth = basicAuthenticator(ctx);
  return (fn: ConsoleAction) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const caller = await auth.authenticate(req.headers.authorization, req.ip);
      if (permission) requirePermission(caller, permission);
      return await fn(caller, req, reply);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const status = statusOf(e);
      if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="tenantry"');
      return reply.code(status).send({ error: { code: e.code, message: e.message, ...(e.details.field ? { field: e.details.field } : {}) } });
    }
  };
}
