import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError, validation } from '../../core/errors.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { PERIOD_KINDS, type PeriodKind } from '../schema.js';
import { invalidPeriodConfig, isTimeZone, localDate, nextDay, periodContaining, periodName } from './period-kinds.js';
import {
  databaseKnowsZone,
  deleteUnendedPeriods,
  firstLedgerInstant,
  insertPeriod,
  selectLastPeriod,
  selectPeriodAt,
  selectPeriodBefore,
  selectPeriodByEndDate,
  selectPeriods,
  selectSettings,
  upsertSettings,
  type PeriodRow,
} from './periods.queries.js';

export interface BillingSettings {
  /** IANA time zone the provider bills in; period days are counted there. */
  timeZone: string;
  kind: PeriodKind;
  /** Start day (fixed_start_day) or N (days_before_month_end); 0 for month_end. */
  day: number;
}

/** Calendar months in UTC until the provider configures otherwise. */
export const DEFAULT_BILLING_SETTINGS: BillingSettings = { timeZone: 'UTC', kind: 'month_end', day: 0 };

export interface BillPeriod {
  id: number;
  name: string;
  startDate: string;
  endDate: string;
  /** First instant of the period (local midnight of startDate). */
  startsAt: Date;
  /** First instant after the period (local midnight after endDate). */
  endsAt: Date;
  /** A period is open until its end, then closed. */
  status: 'open' | 'closed';
  finalizedAt: Date | null;
  lastRunAt: Date | null;
}

function toPeriod(row: PeriodRow, now: Date): BillPeriod {
  return { ...row, name: periodName(row.endDate), status: row.endsAt.getTime() > now.getTime() ? 'open' : 'closed' };
}

export async function getBillingSettings(db: Executor): Promise<BillingSettings> {
  return (await selectSettings(db)) ?? DEFAULT_BILLING_SETTINGS;
}

/**
 * Changes the period configuration. Closed periods keep their dates; the open period and any
 * later ones are regenerated, the first of them starting the day after the last closed one.
 */
export async function setBillingSettings(tx: Tx, caller: Caller, input: BillingSettings, now = new Date()): Promise<BillingSettings> {
  requirePermission(caller, 'Manage Billing');
  const settings = await checkSettings(tx, input);
  await upsertSettings(tx, settings);
  await deleteUnendedPeriods(tx, now);
  await ensurePeriods(tx, now);
  return settings;
}

async function checkSettings(db: Executor, input: BillingSettings): Promise<BillingSettings> {
  if (!PERIOD_KINDS.includes(input.kind)) throw validation(`period kind must be one of ${PERIOD_KINDS.join(', ')}`, { field: 'kind' });
  const settings = { ...input, day: input.kind === 'month_end' ? 0 : input.day };
  const invalid = invalidPeriodConfig(settings);
  if (invalid) throw validation(invalid, { field: 'day' });
  if (!isTimeZone(settings.timeZone) || !(await databaseKnowsZone(db, settings.timeZone))) {
    throw validation(`'${settings.timeZone}' is not an IANA time zone name (e.g. Europe/London)`, { field: 'timeZone' });
  }
  return settings;
}

/**
 * The next `count` periods these settings would give, without saving them: as setBillingSettings
 * regenerates, the first starts the day after the last closed period (or where the period
 * containing today starts, when none is closed). The settings page shows it before Save.
 */
export async function previewBillPeriods(
  db: Executor,
  input: BillingSettings,
  count = 3,
  now = new Date(),
): Promise<{ startDate: string; endDate: string; name: string }[]> {
  const settings = await checkSettings(db, input);
  const today = localDate(now, settings.timeZone);
  const closed = (await selectPeriods(db)).filter((p) => p.endsAt.getTime() <= now.getTime()).at(-1);
  let from = closed ? nextDay(closed.endDate) : periodContaining(settings, today).startDate;
  const out: { startDate: string; endDate: string; name: string }[] = [];
  while (out.length < count) {
    const endDate = periodContaining(settings, from).endDate;
    out.push({ startDate: from, endDate, name: periodName(endDate) });
    from = nextDay(endDate);
  }
  return out;
}

/**
 * Generates bill periods as time passes: from the first ledger change (or today) up to the
 * period containing `now`. Idempotent; safe to call from any reader.
 */
export async function ensurePeriods(db: Executor, now = new Date()): Promise<void> {
  const settings = await getBillingSettings(db);
  const today = localDate(now, settings.timeZone);
  const last = await selectLastPeriod(db);
  let from: string;
  if (last) {
    if (last.endDate >= today) return;
    from = nextDay(last.endDate);
  } else {
    const first = await firstLedgerInstant(db);
    const firstDay = first ? localDate(first, settings.timeZone) : today;
    from = periodContaining(settings, firstDay < today ? firstDay : today).startDate;
  }
  while (from <= today) {
    // After a configuration change the first new period starts where the last closed one ended.
    const endDate = periodContaining(settings, from).endDate;
    await insertPeriod(db, from, endDate, settings.timeZone);
    from = nextDay(endDate);
  }
}

/** Every generated bill period, oldest first. */
export async function billPeriods(db: Executor, now = new Date()): Promise<BillPeriod[]> {
  await ensurePeriods(db, now);
  return (await selectPeriods(db)).map((r) => toPeriod(r, now));
}

export async function findPeriodByEndDate(db: Executor, endDate: string, now = new Date()): Promise<BillPeriod | undefined> {
  const row = await selectPeriodByEndDate(db, endDate);
  return row && toPeriod(row, now);
}

export async function previousPeriod(db: Executor, period: BillPeriod, now = new Date()): Promise<BillPeriod | undefined> {
  const row = await selectPeriodBefore(db, { ...period });
  return row && toPeriod(row, now);
}

export const periodNotFound = (what: string): DomainError =>
  new DomainError('NotFound', `No billing period ends on ${what}. GET /api/Billing/parameters lists the valid end dates.`, {
    endDate: what,
  });

/**
 * Resolves a period reference as the PSA jobs take it (seed 003 BillingPeriod): 'Current' (the
 * open period), 'Previous' (the last closed one), or 'YYYY-MM-DD' — a period end date, or any
 * day inside a period ("the billing period will be selected based on the date").
 */
export async function resolvePeriod(db: Executor, ref: string, now = new Date()): Promise<BillPeriod> {
  await ensurePeriods(db, now);
  const word = ref.trim().toLowerCase();
  if (word === 'current' || word === '') {
    const row = await selectPeriodAt(db, now);
    if (!row) throw periodNotFound('the current date');
    return toPeriod(row, now);
  }
  if (word === 'previous') {
    const current = await selectPeriodAt(db, now);
    const row = current ? await selectPeriodBefore(db, current) : await selectLastPeriod(db);
    if (!row) throw new DomainError('NotFound', 'There is no previous (closed) billing period yet.');
    return toPeriod(row, now);
  }
  const date = parseDateRef(ref);
  const exact = await selectPeriodByEndDate(db, date);
  if (exact) return toPeriod(exact, now);
  const containing = (await selectPeriods(db)).find((p) => p.startDate <= date && p.endDate >= date);
  if (!containing) throw periodNotFound(date);
  return toPeriod(containing, now);
}

/** 'YYYY-MM-DD' (a time part, as some clients send, is ignored); anything else is a validation error. */
export function parseDateRef(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})(?:T[\d:.]+Z?)?$/.exec(text.trim());
  if (!match || Number.isNaN(Date.parse(match[1]!)) || new Date(match[1]!).toISOString().slice(0, 10) !== match[1]) {
    throw validation(`'${text}' is not a date: use the period end date as YYYY-MM-DD, e.g. 2019-10-31.`);
  }
  return match[1]!;
}
