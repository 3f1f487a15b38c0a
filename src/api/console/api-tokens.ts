import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { inTransaction } from '../../core/db/database.js';
import {
  createApiToken,
  deleteApiToken,
  listApiTokens,
  tokenSigningKey,
  type ApiTokenInfo,
} from '../../tenancy/api-tokens/api-token.service.js';
import { changeOwnPassword, MAX_PASSWORD_LENGTH } from '../../tenancy/own-password.js';
import { endSessionsOfUser } from '../../tenancy/sessions/session.service.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, dateTime, id, idParams, int, nullableDateTime, obj, shape, str, text } from './schemas.js';

const TAG = 'Console account';

const tokenSchema = shape({
  id: int(),
  userId: int(),
  label: str(),
  createdAt: dateTime,
  expiresAt: nullableDateTime,
  lastUsedAt: nullableDateTime,
});

/**
 * The user's Password page (seed 000): change the own password, and External API tokens
 * ("Generate API Access Token"). A token never authenticates these endpoints, so a leaked token
 * cannot mint more.
 */
export function consoleTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  const key = tokenSigningKey(ctx.secrets);
  const route = consoleRouter(app, ctx);

  route(
    {
      method: 'POST',
      url: '/api/console/account/password',
      tag: TAG,
      summary: "Change the signed-in user's own password (the current one is required); the user's other sessions end",
      body: obj({ currentPassword: str(MAX_PASSWORD_LENGTH, { minLength: 1 }), newPassword: str(MAX_PASSWORD_LENGTH, { minLength: 1 }) }, [
        'currentPassword',
        'newPassword',
      ]),
      response: { 200: shape({ requestId: { type: ['integer', 'null'] } }) },
    },
    async (auth, req, reply) => {
      const b = req.body as { currentPassword: string; newPassword: string };
      const { requestId } = await inTransaction(ctx.db, (tx) => changeOwnPassword(tx, auth.caller, b.currentPassword, b.newPassword));
      // Whoever else holds a session of this user signed in with the old password.
      if (auth.caller.userId !== null) await endSessionsOfUser(ctx.db, auth.caller.userId, auth.session?.id);
      return reply.header('Cache-Control', 'no-store').send({ requestId: requestId ?? null });
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/tokens',
      tag: TAG,
      summary: 'External API tokens of the signed-in user (or of userId, for an administrator of its customer)',
      querystring: obj({ userId: id }),
      response: { 200: shape({ tokens: arrayOf(tokenSchema) }) },
    },
    async (auth, req) => {
      const userId = (req.query as { userId?: number }).userId;
      return { tokens: (await listApiTokens(ctx.db, auth.caller, userId)).map(toWire) };
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/tokens',
      tag: TAG,
      summary: 'Generate an External API token (needs "Service Provider Developer"); the value is in this answer only',
      body: obj({ label: text(100), expiresAt: { type: ['string', 'null'], format: 'date-time' }, userId: id }, ['label']),
      response: { 201: shape({ token: str(4000), ...(tokenSchema as { properties: Record<string, object> }).properties }) },
    },
    async (auth, req, reply) => {
      const body = req.body as { label: string; expiresAt?: string | null; userId?: number };
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : undefined;
      if (expiresAt && Number.isNaN(expiresAt.getTime()))
        throw new DomainError('ValidationError', 'expiresAt must be an ISO date.', { field: 'expiresAt' });
      const { token, info } = await inTransaction(ctx.db, (tx) =>
        createApiToken(tx, auth.caller, key, {
          label: body.label,
          ...(body.userId ? { userId: body.userId } : {}),
          ...(expiresAt ? { expiresAt } : {}),
        }),
      );
      // Shown once: the response is the only place the value ever appears.
      return reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send({ token, ...toWire(info) });
    },
  );

  route(
    { method: 'DELETE', url: '/api/console/tokens/:id', tag: TAG, summary: 'Delete (revoke) a token at once', params: idParams },
    async (auth, req, reply) => {
      await inTransaction(ctx.db, (tx) => deleteApiToken(tx, auth.caller, (req.params as { id: number }).id));
      return reply.code(204).send();
    },
  );
}

function toWire(t: ApiTokenInfo) {
  return {
    id: t.id,
    userId: t.userId,
    label: t.label,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}
