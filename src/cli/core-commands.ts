import { InvalidArgumentError, type Command } from 'commander';
import { SecretBox, secretKeyFile } from '../core/crypto.js';
import { rotateSecretKey, secretKeySource } from '../core/install/secret-key.js';
import { loadConfig } from '../core/config.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { loadDemo } from '../demo/demo.js';
import { openDatabase } from '../core/db/database.js';
import { progress, withDatabase, withRuntime } from './context.js';
import { commandPath } from './scope.js';
import { backupEmbedded, restoreEmbedded } from '../core/db/backup.js';
import { ConfigError } from '../core/config.js';

export function registerCoreCommands(program: Command): void {
  program
    .command('start')
    .description('migrate the database, bootstrap the provider and serve HTTP on PORT (default 8080)')
    .action(async () => {
      const { startServer } = await import('../server.js');
      await startServer(loadConfig());
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      await withDatabase(async (database) => {
        const { applied } = await migrateToLatest(database.db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      });
    });

  program
    .command('demo')
    .description(
      "load a demo reseller tree with customers, users and services (idempotent); prints the demo users' generated passwords once",
    )
    .option('--password <password>', 'give every demo user this password instead of generated ones')
    .action(async (opts: { password?: string }) => {
      await withRuntime(async (ctx, caller) => {
        const summary = await loadDemo(ctx, caller, {
          ...(opts.password ? { password: opts.password } : {}),
          onProgress: progress,
        });
        console.log(summary);
      });
    });

  program
    .command('backup')
    .description('write the embedded database to a .tar.gz (works while the server runs; for a PostgreSQL server use pg_dump)')
    .argument('<file>', 'backup file to write, e.g. tenantry-2026-11-27.tar.gz')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl)
        throw new ConfigError('tenantry backup is for the embedded database; back up a PostgreSQL server with pg_dump');
      progress(`backing up ${config.dataDir}`);
      const bytes = await withDatabase((database) => backupEmbedded(database, commandPath(file), progress));
      console.log(`backup of ${config.dataDir} written to ${file} (${bytes.toLocaleString('en-US')} bytes)`);
      console.log(
        `The secrets key is NOT in the backup: it is ${config.secretKey ? 'TENANTRY_SECRET_KEY' : secretKeyFile(config.dataDir)}. Keep a copy of it apart from the backup; without it stored job and driver secrets cannot be read after a restore.`,
      );
    });

  program
    .command('restore')
    .description('create the embedded database in an empty TENANTRY_DATA_DIR from a backup file')
    .argument('<file>', 'backup file written by tenantry backup')
    .action(async (file: string) => {
      const config = loadConfig();
      if (config.databaseUrl)
        throw new ConfigError('tenantry restore is for the embedded database; restore a PostgreSQL server with pg_restore/psql');
      progress(`restoring ${file} into ${config.dataDir}`);
      await restoreEmbedded(config.dataDir, commandPath(file), progress);
      console.log(`restored ${file} into ${config.dataDir}`);
      console.log(
        `Now copy the original secrets key to ${secretKeyFile(config.dataDir)} (mode 0600) or set TENANTRY_SECRET_KEY: tenantry refuses to start with a different key.`,
      );
    });

  program
    .command('rotate-key')
    .description('re-seal stored secrets (job, driver, pending request secrets) with the configured secrets key')
    .option('--old-key-file <file>', 'the key the secrets were sealed with (64 hex characters or base64)')
    .option('--forget-secrets', 'the old key is lost: drop the secrets it sealed (enter them again afterwards)')
    .addHelpText(
      'after',
      '\nPut the new key in secret.key (or TENANTRY_SECRET_KEY) first, stop the server, then run this. External API tokens are signed with a key derived from it: create new ones afterwards.',
    )
    .action(async (opts: { oldKeyFile?: string; forgetSecrets?: boolean }) => {
      if (Boolean(opts.oldKeyFile) === Boolean(opts.forgetSecrets))
        throw new InvalidArgumentError('give either --old-key-file <file> or --forget-secrets');
      const config = loadConfig();
      const old = opts.oldKeyFile ? SecretBox.fromFile(opts.oldKeyFile) : undefined;
      const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      try {
        await migrateToLatest(database.db);
        const out = await rotateSecretKey(database.db, config, old);
        console.log(
          `${out.resealed} secret(s) re-sealed, ${out.dropped} dropped; the database now expects the key of fingerprint ${out.fingerprint} (${secretKeySource(config)})`,
        );
      } finally {
        await database.close();
      }
    });
}
