import type { Command } from 'commander';
import { loadConfig } from '../core/config.js';
import { openDatabase } from '../core/db/database.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { startServer } from '../server.js';
import { loadDemo } from '../demo/demo.js';
import { withRuntime } from './context.js';
import { backupEmbedded, restoreEmbedded } from '../core/db/backup.js';
import { ConfigError } from '../core/config.js';

export function registerCoreCommands(program: Command): void {
  program
    .command('start')
    .description('migrate the database, bootstrap the provider and serve HTTP on PORT (default 8080)')
    .action(async () => {
      await startServer(loadConfig());
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      try {
        const { applied } = await migrateToLatest(database.db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await database.close();
      }
    });

  program
    .command('demo')
    .description('load a demo reseller tree with customers, users and services (idempotent)')
    .action(async () => {
      await withRuntime(async (ctx, caller) => {
        const summary = await loadDemo(ctx, caller);
        console.log(summary);
      });
    });

  program
    .command('backup')
    .description('write the embedded database to a .tar.gz (stop the server first; for a PostgreSQL server use pg_dump)')
    .argument('<file>', 'backup file to write, e.g. tenantry-2026-11-27.tar.gz')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl) throw new ConfigError('tenantry backup is for the embedded database; back up a PostgreSQL server with pg_dump');
      const bytes = await backupEmbedded(config.dataDir, file);
      console.log(`backup of ${config.dataDir} written to ${file} (${bytes.toLocaleString('en-US')} bytes)`);
    });

  program
    .command('restore')
    .description('create the embedded database in an empty TENANTRY_DATA_DIR from a backup file')
    .argument('<file>', 'backup file written by tenantry backup')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl) throw new ConfigError('tenantry restore is for the embedded database; restore a PostgreSQL server with pg_restore/psql');
      await restoreEmbedded(config.dataDir, file);
      console.log(`restored ${file} into ${config.dataDir}; copy the secret key too (TENANTRY_SECRET_KEY or secret.key) or stored secrets cannot be read`);
    });
}
