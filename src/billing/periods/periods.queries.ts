import { sql } from 'kysely';
import type { Executor } from '../../core/db/database.js';
import type { PeriodKind } from '../schema.js';

export interface PeriodRow {
  id: number;
  startDate: string;
  endDate: string;
  startsAt: Date;
  endsAt: Date;
  finalizedAt: Date | null;
  lastRunAt: Date | null;
}

export interface SettingsRow {
  timeZone: string;
  kind: PeriodKind;
  day: number;
}

const periodColumns = sql<PeriodRow>`id, to_char(start_date, 'YYYY-MM-DD') as "startDate", to_char(end_date, 'YYYY-MM-DD') as "endDate",
  starts_at as "startsAt", ends_at as "endsAt", finalized_at as "finalizedAt", last_run_at as "lastRunAt"`;

export async function selectSettings(db: Executor): Promise<SettingsRow | undefined> {
  const r = await db.selectFrom('billing_settings').select(['time_zone', 'period_kind', 'period_day']).orderBy('id').executeTakeFirst();
  return r && { timeZone: r.time_zone, kind: r.period_kind, day: r.period_day };
}

export async function upsertSettings(db: Executor, s: SettingsRow): Promise<void> {
  const updated = await db
    .updateTable('billing_settings')
    .set({ time_zone: s.timeZone, period_kind: s.kind, period_day: s.day, modified_at: new Date() })
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    await db.insertInto('billing_settings').values({ time_zone: s.timeZone, period_kind: s.kind, period_day: s.day }).execute();
  }
}

/** True when PostgreSQL knows the zone too (the run does its day arithmetic in SQL). */
export async function databaseKnowsZone(db: Executor, timeZone: string): Promise<boolean> {
  const r = await sql<{ n: number }>`select count(*)::int as n from pg_timezone_names where name = ${timeZone}`.execute(db);
  return (r.rows[0]?.n ?? 0) > 0;
}

export async function selectPeriods(db: Executor): Promise<PeriodRow[]> {
  return (await sql<PeriodRow>`select ${periodColumns} from bill_periods order by end_date`.execute(db)).rows;
}

export async function selectLastPeriod(db: Executor): Promise<PeriodRow | undefined> {
  return (await sql<PeriodRow>`select ${periodColumns} from bill_periods order by end_date desc limit 1`.execute(db)).rows[0];
}

export async function selectPeriodByEndDate(db: Executor, endDate: string): Promise<PeriodRow | undefined> {
  return (await sql<PeriodRow>`select ${periodColumns} from bill_periods where end_date = ${endDate}::date`.execute(db)).rows[0];
}

export async function selectPeriodById(db: Executor, id: number): Promise<PeriodRow | undefined> {
  return (await sql<PeriodRow>`select ${periodColumns} from bill_periods where id = ${id}`.execute(db)).rows[0];
}

/** The period that contains an instant, if it has been generated. */
export async function selectPeriodAt(db: Executor, at: Date): Promise<PeriodRow | undefined> {
  return (await sql<PeriodRow>`select ${periodColumns} from bill_periods where starts_at <= ${at} and ends_at > ${at}`.execute(db)).rows[0];
}

export async function selectPeriodBefore(db: Executor, period: PeriodRow): Promise<PeriodRow | undefined> {
  return (
    await sql<PeriodRow>`select ${periodColumns} from bill_periods where end_date < ${period.endDate}::date order by end_date desc limit 1`.execute(
      db,
    )
  ).rows[0];
}

/** Inserts a period; its instants are local midnights in the provider's zone, computed by PostgreSQL. */
export async function insertPeriod(db: Executor, startDate: string, endDate: string, timeZone: string): Promise<void> {
  await sql`
    insert into bill_periods (start_date, end_date, starts_at, ends_at)
    values (${startDate}::date, ${endDate}::date,
            (${startDate}::date)::timestamp at time zone ${timeZone},
            (${endDate}::date + 1)::timestamp at time zone ${timeZone})
    on conflict (end_date) do nothing
  `.execute(db);
}

/** Periods that have not ended yet, with their items (dropped when the period configuration changes). */
export async function deleteUnendedPeriods(db: Executor, now: Date): Promise<void> {
  // bill_items has no foreign key to cascade through (billItemsUncheckedPeriodMigration).
  await sql`
    with gone as (delete from bill_periods where ends_at > ${now} returning id)
    delete from bill_items where bill_period_id in (select id from gone)`.execute(db);
}

export async function firstLedgerInstant(db: Executor): Promise<Date | undefined> {
  const r = await db
    .selectFrom('service_changes')
    .select((eb) => eb.fn.min('occurred_at').as('at'))
    .executeTakeFirst();
  return (r?.at as Date | null | undefined) ?? undefined;
}
