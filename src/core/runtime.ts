import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { loadSecretKey } from './install/secret-key.js';
import { createLogger } from './logger.js';
import { bootstrap, type BootstrapResult } from '../tenancy/bootstrap.js';
import type { AppContext } from './context.js';
// Side effect: registers the approval gate on provisioning requests.
import '../approvals/approval-gate.js';
import { useRequestSecretBox } from '../provisioning/requests.js';
import { useMailOutbox } from '../mail/outbox.js';
import { ensureDefaultJobs } from '../jobs/default-jobs.js';

/** Opens the database, migrates it and bootstraps the provider: the common start of every command. */
export async function openRuntime(config: Config, opts: { quiet?: boolean } = {}): Promise<{ ctx: AppContext; boot: BootstrapResult }> {
  const logger = createLogger(opts.quiet ? 'warn' : config.logLevel);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    const boot = await bootstrap(database.db, {
      providerName: config.providerName,
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
    });
    const secrets = await loadSecretKey(database.db, config);
    useRequestSecretBox(secrets);
    useMailOutbox(config.smtpUrl ? secrets : undefined);
    await ensureDefaultJobs(database.db, boot.provider, secrets);
    return { ctx: { config, database, db: database.db, secrets, logger, provider: boot.provider }, boot };
  } catch (e) {
    await database.close();
    throw e;
  }
}
