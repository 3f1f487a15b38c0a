import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { inTransaction } from '../../core/db/database.js';
import { authenticate } from '../../tenancy/auth.service.js';
import type { Caller } from '../../tenancy/caller.js';
import { createApiToken, deleteApiToken, listApiTokens, tokenSigningKey, type ApiTokenInfo } from '../../tenancy/api-tokens/api-token.service.js';
import { statusOf } from '../rest/envelope.js';

/**
 * JSON endpoints the console uses for External API tokens (seed 000: "Generate API Access Token"
 * on the user's Password page). The user signs in with Basic auth; a token never authenticates
 * these endpoints, so a leaked token cannot mint more.
 */
export function consoleTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  const key = tokenSigningKey(ctx.secrets);
  const handle = (fn: (caller: Caller, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await fn(await basicCaller(ctx, req), req, reply);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const status = statusOf(e);
      if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="tenantry"');
      return reply.code(status).send({ error: { code: e.code, message: e.message } });
    }
  };
  app.get('/api/console/tokens', handle(async (caller, req) => {
    const userId = (req.query as { userId?: string }).userId;
    return { tokens: (await listApiTokens(ctx.db, caller, userId ? Number(userId) : undefined)).map(toWire) };
  }));
  app.post('/api/console/tokens', handle(async (caller, req, reply) => {
    const body = (req.body ?? {}) as { label?: unknown; expiresAt?: unknown; userId?: unknown };
    const expiresAt = typeof body.expiresAt === 'string' && body.expiresAt ? new Date(body.expiresAt) : undefined;
    if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new DomainError('ValidationError', 'expiresAt must be an ISO date.');
    const { token, info } = await inTransaction(ctx.db, (tx) =>
      createApiToken(tx, caller, key, {
        label: typeof body.label === 'string' ? body.label : '',
        ...(typeof body.userId === 'number' ? { userId: body.userId } : {}),
        ...(expiresAt ? { expiresAt } : {}),
      }),
    );
    // Shown once: the response is the only place the value ever appears.
    return reply.code(201).header('Cache-Control', 'no-store').send({ token, ...toWire(info) });
  }));
  app.delete('/api/console/tokens/:id', handle(async (caller, req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!/^\d+$/.test(id)) throw new DomainError('ValidationError', 'The token id must be a whole number.');
    await inTransaction(ctx.db, (tx) => deleteApiToken(tx, caller, Number(id)));
    return reply.code(204).send();
  }));
}

function toWire(t: ApiTokenInfo) {
  return { id: t.id, userId: t.userId, label: t.label, createdAt: t.createdAt.toISOString(), expiresAt: t.expiresAt?.toISOString() ?? null, lastUsedAt: t.lastUsedAt?.toISOString() ?? null };
}

async function basicCaller(ctx: AppContext, req: FastifyRequest): Promise<Caller> {
  const match = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match) throw new DomainError('NotAuthenticated', 'Sign in with the user name and password (HTTP Basic).');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new DomainError('NotAuthenticated', 'The user authentication failed');
  return authenticate(ctx.db, decoded.slice(0, colon), decoded.slice(colon + 1));
}
