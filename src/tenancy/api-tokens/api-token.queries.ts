import type { Executor } from '../../core/db/database.js';

export async function insertToken(
  db: Executor,
  v: { userId: number; label: string; tokenHash: string; expiresAt: Date | null },
): Promise<{ id: number; created_at: Date }> {
  return db
    .insertInto('api_tokens')
    .values({ user_id: v.userId, label: v.label, token_hash: v.tokenHash, expires_at: v.expiresAt })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
}

export async function selectTokenByHash(db: Executor, tokenHash: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'expires_at', 'last_used_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function selectTokenById(db: Executor, id: number) {
  return db.selectFrom('api_tokens').select(['id', 'user_id']).where('id', '=', id).executeTakeFirst();
}

export async function selectTokensOfUser(db: Executor, userId: number) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'label', 'created_at', 'expires_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
}

export async function touchToken(db: Executor, id: number, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function deleteTokenRow(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('id', '=', id).execute();
}

export async function selectUserForToken(db: Executor, userId: number) {
  return db
    .selectFrom('users')
    .innerJoin('customers', 'customers.id', 'users.customer_id')
    .select(['users.id', 'users.name', 'users.enabled', 'customers.path'])
    .where('users.id', '=', userId)
    .where('users.deleted_at', 'is', null)
    .executeTakeFirst();
}
