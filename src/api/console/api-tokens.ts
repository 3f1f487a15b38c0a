import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { inTransaction } from '../../core/db/database.js';
import { createApiToken, deleteApiToken, listApiTokens, tokenSigningKey, type ApiTokenInfo } from '../../tenancy/api-tokens/api-token.service.js';
import { consoleHandler } from './console-handler.js';

/**
 * JSON endpoints the console uses for External API tokens (seed 000: "Generate API Access Token"
 * on the user's Password page). The user signs in with Basic auth; a token never authenticates
 * these endpoints, so a leaked token cannot mint more.
 */
export function consoleTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  const key = tokenSigningKey(ctx.secrets);
  const handle = consoleHandler(ctx);
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

