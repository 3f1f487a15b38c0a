import { assertFieldLengths, type FieldLimits } from '../../core/field-limits.js';
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError, must } from '../../core/errors.js';
import { sha256Hex, type SecretBox } from '../../core/crypto.js';
import { callerForUser } from '../auth.service.js';
import { hasPermission, pathInScope, type Caller } from '../caller.js';
import {
  deleteTokenRow,
  insertToken,
  selectTokenByHash,
  selectTokenById,
  selectTokensOfUser,
  selectUserForToken,
  touchToken,
} from './api-token.queries.js';

/** seed 000: only a user with this permission may hold External API tokens. */
export const TOKEN_PERMISSION = 'Service Provider Developer' as const;
const ISSUER = 'tenantry';
const AUDIENCE = 'tenantry-external-api';

export interface ApiTokenInfo {
  id: number;
  userId: number;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** The install's token signing key (HS256), derived from the secret key so one key file serves all. */
export function tokenSigningKey(secrets: SecretBox): Uint8Array {
  return new Uint8Array(secrets.derive('external-api-token-jwt'));
}

const notAuthenticated = () =>
  new DomainError('NotAuthenticated', 'The API token is missing, invalid, expired or revoked, or its user may not use the API.');

/**
 * Creates a token for a user. The value is returned once and never stored: the database keeps
 * only the SHA-256 of the token's id. A user creates its own tokens; an administrator may create
 * them for a user in its subtree. Either way the token's user needs the developer permission.
 */
/** Most characters of a token's label (docs/security.md). */
export const TOKEN_FIELD_LIMITS: FieldLimits = { label: 100 };

export async function createApiToken(
  tx: Tx,
  issuer: Caller,
  key: Uint8Array,
  input: { userId?: number; label: string; expiresAt?: Date },
): Promise<{ token: string; info: ApiTokenInfo }> {
  const userId = input.userId ?? issuer.userId;
  if (userId === null || userId === undefined) throw new DomainError('ValidationError', 'Name the user the token is for.');
  const label = input.label.trim();
  if (!label) throw new DomainError('ValidationError', 'A token needs a label (what it is for, e.g. "Power BI").');
  assertFieldLengths('ValidationError', 'token', { label }, TOKEN_FIELD_LIMITS);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
    throw new DomainError('ValidationError', 'The expiry date is in the past.');
  await assertMayManage(tx, issuer, userId);
  const holder = await callerForUser(tx, userId);
  if (!holder) throw new DomainError('InvalidUser', 'The user is disabled or deleted and cannot hold API tokens.');
  if (!hasPermission(holder, TOKEN_PERMISSION)) {
    throw new DomainError(
      'NotAuthorized',
      `The user '${holder.userName}' does not have the "${TOKEN_PERMISSION}" permission needed for API tokens.`,
    );
  }
  const jti = randomBytes(24).toString('base64url');
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(userId))
    .setJti(jti)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt();
  if (input.expiresAt) jwt = jwt.setExpirationTime(Math.floor(input.expiresAt.getTime() / 1000));
  const token = await jwt.sign(key);
  const row = await insertToken(tx, { userId, label, tokenHash: sha256Hex(jti), expiresAt: input.expiresAt ?? null });
  return { token, info: { id: row.id, userId, label, createdAt: row.created_at, expiresAt: input.expiresAt ?? null, lastUsedAt: null } };
}

/**
 * Authenticates `Authorization: Bearer <token>`: a valid signature, a token still on record,
 * not expired, an enabled user of an enabled customer that still has the developer permission —
 * all checked on every call, so disabling the user or removing the permission takes effect at once.
 */
export async function authenticateApiToken(db: Executor, key: Uint8Array, token: string, now = new Date()): Promise<Caller> {
  let jti: string | undefined;
  let sub: string | undefined;
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], currentDate: now });
    jti = payload.jti;
    sub = payload.sub;
  } catch {
    throw notAuthenticated();
  }
  if (!jti || !sub) throw notAuthenticated();
  const row = await selectTokenByHash(db, sha256Hex(jti));
  if (!row || String(row.user_id) !== sub || (row.expires_at && row.expires_at.getTime() <= now.getTime())) throw notAuthenticated();
  const caller = await callerForUser(db, row.user_id);
  if (!caller || !hasPermission(caller, TOKEN_PERMISSION)) throw notAuthenticated();
  // Last use at minute resolution: enough for the token list, without a write on every call.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) await touchToken(db, row.id, now);
  return caller;
}

/** A user's tokens (label, created, last used, expiry) — never the value. */
export async function listApiTokens(db: Executor, caller: Caller, userId?: number): Promise<ApiTokenInfo[]> {
  const target = userId ?? caller.userId;
  if (target === null || target === undefined) throw new DomainError('ValidationError', 'Name the user whose tokens to list.');
  await assertMayManage(db, caller, target);
  return (await selectTokensOfUser(db, target)).map((r) => ({
    id: r.id,
    userId: r.user_id,
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
  }));
}

/** Deletes (revokes) a token at once. */
export async function deleteApiToken(tx: Tx, caller: Caller, tokenId: number): Promise<void> {
  const row = must(await selectTokenById(tx, tokenId), () => new DomainError('NotFound', `API token ${tokenId} not found.`));
  await assertMayManage(tx, caller, row.user_id, () => new DomainError('NotFound', `API token ${tokenId} not found.`));
  await deleteTokenRow(tx, tokenId);
}

/** Own tokens always; another user's only with "Manage Users" over that user's customer. */
async function assertMayManage(db: Executor, caller: Caller, userId: number, hidden?: () => DomainError): Promise<void> {
  if (caller.userId === userId) return;
  const user = await selectUserForToken(db, userId);
  if (!user || !pathInScope(caller, user.path)) throw hidden?.() ?? new DomainError('UserNotFound', `User ${userId} not found.`);
  if (!hasPermission(caller, 'Manage Users'))
    throw new DomainError('NotAuthorized', 'Only the user itself or an administrator with "Manage Users" may manage a user\'s API tokens.');
}
