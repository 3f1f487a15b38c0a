import type { Command } from 'commander';
import { loadConfig } from '../core/config.js';
import { openDatabase } from '../core/db/database.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { startServer } from '../server.js';
import { loadDemo } from '../demo/demo.js';
import { withRuntime } from './context.js';

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
}
