import { sql, Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { DB } from './database.js';
import { tenancyMigration } from '../../tenancy/schema.js';
import { catalogMigration, catalogSkuChangesMigration } from '../../catalog/schema.js';
import { servicesMigration, userServiceInstancesMigration } from '../../services/schema.js';
import { provisioningMigration, provisioningWakeMigration } from '../../provisioning/schema.js';
import { ledgerMigration } from '../../billing/ledger/schema.js';
import { billingMigration, billItemsUncheckedPeriodMigration } from '../../billing/schema.js';
import { apiTokensMigration } from '../../tenancy/api-tokens/schema.js';
import { jobRunApprovalMigration, jobsMigration } from '../../jobs/schema.js';
import { exchangeMigration } from '../../services/exchange/schema.js';
import { approvalRemindersMigration, approvalsMigration } from '../../approvals/schema.js';
import { queueSchemaMigration } from '../queue.js';
import { provisioningQueueMigration } from '../../provisioning/request-queue.js';
import { reportsMigration } from '../../reports/schema.js';
import { consoleSessionsEndedMigration, consoleSessionsMigration } from '../../tenancy/sessions/schema.js';
import {
  requestFeedMigration,
  requestStatusEventsByCommitMigration,
  requestStatusEventsMigration,
} from '../../provisioning/request-feed.schema.js';
import { installStateMigration } from '../install/schema.js';
import { signInThrottleMigration } from '../../tenancy/sign-in/schema.js';
import { mailOutboxMigration } from '../../mail/schema.js';

/**
 * Forward-only, versioned migrations. Append new entries; never edit a released one.
 * Names sort in the order they run.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_tenancy': tenancyMigration,
  '0002_catalog': catalogMigration,
  '0003_services': servicesMigration,
  '0004_provisioning': provisioningMigration,
  '0005_service_changes': ledgerMigration,
  '0006_queue': queueSchemaMigration,
  '0007_jobs': jobsMigration,
  '0008_provisioning_queue': provisioningQueueMigration,
  '0008_billing': billingMigration,
  '0009_api_tokens': apiTokensMigration,
  '0010_reports': reportsMigration,
  '0011_approvals': approvalsMigration,
  '0012_exchange': exchangeMigration,
  '0013_bill_items_unchecked_period': billItemsUncheckedPeriodMigration,
  '0014_user_service_instances': userServiceInstancesMigration,
  '0015_approval_reminders': approvalRemindersMigration,
  '0016_sign_in_throttle': signInThrottleMigration,
  '0017_job_run_approval': jobRunApprovalMigration,
  '0018_console_sessions': consoleSessionsMigration,
  '0019_request_status_feed': requestFeedMigration,
  '0020_install_state': installStateMigration,
  '0021_mail_outbox': mailOutboxMigration,
  '0022_catalog_sku_changes': catalogSkuChangesMigration,
  '0023_console_sessions_ended': consoleSessionsEndedMigration,
  '0024_request_status_events': requestStatusEventsMigration,
  '0025_provisioning_wake': provisioningWakeMigration,
  '0026_request_status_events_by_commit': requestStatusEventsByCommitMigration,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface MigrationOutcome {
  applied: string[];
}

/** True when every migration of this build is recorded: the common start, answered with two reads. */
async function upToDate(db: DB): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`select to_regclass('schema_migrations') is not null as present`.execute(db);
  if (!rows[0]?.present) return false;
  const applied = await sql<{ name: string }>`select name from schema_migrations`.execute(db);
  const names = new Set(applied.rows.map((r) => r.name));
  // A migration this build does not know (a newer database) goes to the migrator, which refuses it.
  return names.size === Object.keys(MIGRATIONS).length && Object.keys(MIGRATIONS).every((name) => names.has(name));
}

export async function migrateToLatest(db: DB): Promise<MigrationOutcome> {
  if (await upToDate(db)) return { applied: [] };
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(),
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = (error as Error).message;
    throw new Error(failed ? `migration ${failed.migrationName} failed: ${reason}` : `cannot migrate the database: ${reason}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
