import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { withDefaultUser, openDatabase } from '../../src/core/db/database.js';
import { migrateToLatest } from '../../src/core/db/migrate.js';
import { bootstrap } from '../../src/tenancy/bootstrap.js';
import { TEST_ADMIN, TEST_ENGINE, TEST_PG_URL, TEST_PROVIDER_NAME, databaseUrl } from './engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: string;
    pgPrefix: string;
  }
}

/**
 * Builds one migrated, bootstrapped database per run; every test file starts from a copy
 * of it (a PGlite data-dir dump, or a PostgreSQL template database), so files never share state.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const prefix = `tenantry_t${process.pid}_${Date.now().toString(36)}`;
  const bootOpts = { providerName: TEST_PROVIDER_NAME, adminUser: TEST_ADMIN.user, adminPassword: TEST_ADMIN.password };
  if (TEST_ENGINE === 'pglite') {
    const database = await openDatabase({ memory: true });
    await migrateToLatest(database.db);
    await bootstrap(database.db, bootOpts);
    const dump = await database.dump!();
    const file = path.join(os.tmpdir(), `${prefix}.tar`);
    fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    await database.close();
    project.provide('pgliteTemplate', file);
    project.provide('pgTemplate', '');
    project.provide('pgPrefix', prefix);
    return async () => fs.rmSync(file, { force: true });
  }
  const admin = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
  await admin.connect();
  const template = `${prefix}_tpl`;
  await admin.query(`create database ${template}`);
  const database = await openDatabase({ url: databaseUrl(TEST_PG_URL, template) });
  await migrateToLatest(database.db);
  await bootstrap(database.db, bootOpts);
  await database.close();
  project.provide('pgliteTemplate', '');
  project.provide('pgTemplate', template);
  project.provide('pgPrefix', prefix);
  return async () => {
    const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${prefix}%`]);
    for (const r of rows) await admin.query(`drop database if exists ${r.datname} with (force)`);
    await admin.end();
  };
}
