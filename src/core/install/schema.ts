import { sql, type Kysely, type Migration, type ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * Facts about this installation that must outlive restarts and backups: that the default
 * jobs were created once (so a deleted one stays deleted), the secrets key's fingerprint.
 */
export interface InstallStateTable {
  key: string;
  value: string;
  recorded_at: Timestamp;
}

export interface InstallTables {
  install_state: InstallStateTable;
}

export const installStateMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`
      create table install_state (
        key text primary key,
        value text not null,
        recorded_at timestamptz not null default now()
      )
    `.execute(db);
  },
};
