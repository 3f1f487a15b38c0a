import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDefaultUser } from '../../src/core/db/database.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from './engine.js';

export interface FreshInstall {
  /** What `tenantry start` would read from the environment for this install. */
  config: Config;
  dataDir: string;
  /** Environment variables for a child `tenantry` process on this install. */
  env: NodeJS.ProcessEnv;
  drop(): Promise<void>;
}

/** Runs one statement as the PostgreSQL server's admin (creating and dropping test databases). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Creates a database on the PostgreSQL server: empty, as a new install has it, or `migrated`, a copy of
 * the run's migrated template (built-in defaults, no provider yet) for tests of later starts, which
 * need not pay for every migration again.
 */
export async function createDatabase(name: string, opts: { migrated?: boolean } = {}): Promise<void> {
  await adminQuery(`create database ${name}${opts.migrated ? ` template ${inject('pgMigratedTemplate')}` : ''}`);
}

/**
 * A database as a new install has it: PGlite in a fresh data dir (which starts from the embedded
 * template, as an installed build's does), or an empty database on the PostgreSQL server. For tests
 * of what the first start does; `migrated` as in createDatabase.
 */
export async function freshInstall(extra: NodeJS.ProcessEnv = {}, opts: { migrated?: boolean } = {}): Promise<FreshInstall> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-fresh-'));
  let name: string | undefined;
  const env: NodeJS.ProcessEnv = { TENANTRY_DATA_DIR: dataDir, TENANTRY_ADMIN_PASSWORD: 'Fresh-Install-Passw0rd', ...extra };
  if (TEST_ENGINE === 'postgres') {
    name = `tenantry_fresh_${randomBytes(4).toString('hex')}`;
    await createDatabase(name, opts);
    env.DATABASE_URL = databaseUrl(TEST_PG_URL, name);
  }
  return {
    config: { ...loadConfig(env), port: 0, host: '127.0.0.1', inProcessWorkers: false },
    dataDir,
    env,
    drop: async () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (name) await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}
