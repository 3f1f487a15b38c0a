import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { DB } from './database.js';
import { tenancyMigration } from '../../tenancy/schema.js';
import { catalogMigration } from '../../catalog/schema.js';
import { servicesMigration, userServiceInstancesMigration } from '../../services/schema.js';
import { provisioningMigration } from '../../provisioning/schema.js';
import { ledgerMigration } from '../../billing/ledger/schema.js';
import { billingMigration, billItemsUncheckedPeriodMigration } from '../../billing/schema.js';
import { apiTokensMigration } from '../../tenancy/api-tokens/schema.js';
import { jobsMigration } from '../../jobs/schema.js';
import { exchangeMigration } from '../../services/exchange/schema.js';
import { approvalRemindersMigration, approvalsMigration } from '../../approvals/schema.js';
import { queueSchemaMigration } from '../queue.js';
import { provisioningQueueMigration } from '../../provisioning/request-queue.js';
import { reportsMigration } from '../../reports/schema.js';

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
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface MigrationOutcome {
  applied: string[];
}

export async function migrateToLatest(db: DB): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db, provider: new StaticProvider(), migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
