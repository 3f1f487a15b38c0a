import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDefaultUser, openDatabase, type Database, type DB } from '../../src/core/db/database.js';
import { SecretBox } from '../../src/core/crypto.js';
import { createLogger } from '../../src/core/logger.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import type { AppContext } from '../../src/core/context.js';
import { callerForUser } from '../../src/tenancy/auth.service.js';
import { getProvider, type Customer } from '../../src/tenancy/customer.service.js';
import type { Caller } from '../../src/tenancy/caller.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from './engine.js';

export interface TestDatabase {
  database: Database;
  db: DB;
  /** postgres:// URL of this file's own database (postgres engine only). */
  url: string | undefined;
  close(): Promise<void>;
}

/** A fresh copy of the migrated, bootstrapped template database, private to the caller. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (TEST_ENGINE === 'pglite') {
    const template = fs.readFileSync(inject('pgliteTemplate'));
    const database = await openDatabase({ memory: true, loadDataDir: new Blob([template]) });
    return { database, db: database.db, url: undefined, close: () => database.close() };
  }
  const name = `${inject('pgPrefix')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${inject('pgTemplate')}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(TEST_PG_URL, name);
  const database = await openDatabase({ url });
  return { database, db: database.db, url, close: () => database.close() };
}

export interface TestContext extends TestDatabase {
  ctx: AppContext;
  provider: Customer;
  /** The provider's admin (Provider Administrator). */
  admin: Caller;
  dataDir: string;
}

/** A database plus everything a running Tenantry process has (config, secrets, logger). */
export async function openTestContext(overrides: Partial<Config> = {}): Promise<TestContext> {
  const tdb = await openTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-test-'));
  const config: Config = {
    ...loadConfig({}),
    dataDir,
    databaseUrl: tdb.url,
    port: 0,
    host: '127.0.0.1',
    inProcessWorkers: false,
    ...overrides,
  };
  const provider = (await getProvider(tdb.db))!;
  const adminRow = await tdb.db
    .selectFrom('users')
    .select('id')
    .where('customer_id', '=', provider.id)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const admin = (await callerForUser(tdb.db, adminRow.id))!;
  const ctx: AppContext = {
    config,
    database: tdb.database,
    db: tdb.db,
    secrets: SecretBox.load(undefined, dataDir),
    logger: createLogger('silent'),
    provider,
  };
  return {
    ...tdb,
    ctx,
    provider,
    admin,
    dataDir,
    close: async () => {
      await tdb.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
