import fs from 'node:fs';
import { sql } from 'kysely';
import type { Executor } from './db/database.js';

let cachedApiVersion: string | undefined;

/** The running build's version (package.json), shown as the API version. */
export function apiVersion(): string {
  cachedApiVersion ??= (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cachedApiVersion;
}

/**
 * The schema version: the name of the last migration applied to this database, so two
 * installs report the same value exactly when their schemas match.
 */
export async function databaseVersion(db: Executor): Promise<string> {
  const { rows } = await sql<{ name: string }>`select name from schema_migrations order by name desc limit 1`.execute(db);
  return rows[0]?.name ?? '';
}
