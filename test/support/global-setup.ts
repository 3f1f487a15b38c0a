import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { withDefaultUser, inTransaction, openDatabase, TEMPLATE_URL } from '../../src/core/db/database.js';
import { migrateToLatest } from '../../src/core/db/migrate.js';
import { writeEmbeddedTemplate } from '../../src/core/db/template.js';
import { bootstrap, ensureBuiltInDefaults } from '../../src/tenancy/bootstrap.js';
import { TEST_ADMIN, TEST_ENGINE, TEST_PG_URL, TEST_PROVIDER_NAME, databaseUrl } from './engine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: string;
    /** Migrated, with the built-in defaults, no provider yet: what a new PostgreSQL install has after its first migration. */
    pgMigratedTemplate: string;
    pgPrefix: string;
  }
}

/**
 * Builds one migrated, bootstrapped database per run; every test file starts from a copy
 * of it (a PGlite data-dir dump, or a PostgreSQL template database), so files never share state.
 * On PGlite, also writes the embedded template for the sources (src/template.tar, what dist/template.tar is
 * to the build): a new data directory opened by a test starts from it, as an installed one does,
 * instead of running initdb and every migration (a minute on a loaded machine).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const prefix = `tenantry_t${process.pid}_${Date.now().toString(36)}`;
  const bootOpts = { providerName: TEST_PROVIDER_NAME, adminUser: TEST_ADMIN.user, adminPassword: TEST_ADMIN.password };
  if (TEST_ENGINE === 'pglite') {
    await writeEmbeddedTemplate();
    const database = await openDatabase({ memory: true, loadDataDir: new Blob([fs.readFileSync(fileURLToPath(TEMPLATE_URL))]) });
    await bootstrap(database.db, bootOpts);
    const dump = await database.dump!();
    const file = path.join(os.tmpdir(), `${prefix}.tar`);
    fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    await database.close();
    project.provide('pgliteTemplate', file);
    project.provide('pgTemplate', '');
    project.provide('pgMigratedTemplate', '');
    project.provide('pgPrefix', prefix);
    return async () => fs.rmSync(file, { force: true });
  }
  const admin = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
  await admin.connect();
  const migrated = `${prefix}_mig`;
  await admin.query(`create database ${migrated}`);
  const fresh = await openDatabase({ url: databaseUrl(TEST_PG_URL, migrated) });
  await migrateToLatest(fresh.db);
  await inTransaction(fresh.db, ensureBuiltInDefaults);
  await fresh.close();
  const template = `${prefix}_tpl`;
  await admin.query(`create database ${template} template ${migrated}`);
  const database = await openDatabase({ url: databaseUrl(TEST_PG_URL, template) });
  await bootstrap(database.db, bootOpts);
  await database.close();
  project.provide('pgliteTemplate', '');
  project.provide('pgTemplate', template);
  project.provide('pgMigratedTemplate', migrated);
  project.provide('pgPrefix', prefix);
  return async () => {
    const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${prefix}%`]);
    for (const r of rows) await admin.query(`drop database if exists ${r.datname} with (force)`);
    await admin.end();
  };
}
