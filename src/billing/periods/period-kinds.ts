/*
 * Bill period arithmetic on calendar dates ('YYYY-MM-DD', in the provider's time zone).
 * One function per period kind; each returns the period that contains a given day.
 * Days 29–31 are not accepted as a start day (the docs leave short months open), so
 * no kind ever has to clamp a day to a month's length.
 */
import type { PeriodKind } from '../schema.js';

export interface PeriodRange {
  /** First day of the period. */
  startDate: string;
  /** Last day of the period (inclusive). */
  endDate: string;
}

export interface PeriodConfig {
  kind: PeriodKind;
  /** Start day for fixed_start_day (1–28), N for days_before_month_end (0–27). */
  day: number;
}

interface Ymd {
  y: number;
  m: number;
  d: number;
}

function parse(date: string): Ymd {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new RangeError(`not a date: ${date}`);
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

function format(y: number, m: number, d: number): string {
  // Date.UTC normalises month/day overflow (month 13, day 0), which the arithmetic below relies on.
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.toISOString().slice(0, 10);
}

function lastDayOf(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The day after `date`. */
export function nextDay(date: string): string {
  const { y, m, d } = parse(date);
  return format(y, m, d + 1);
}

/** Number of calendar days in a period, both ends included. */
export function daysIn(range: PeriodRange): number {
  return Math.round((Date.parse(range.endDate) - Date.parse(range.startDate)) / 86_400_000) + 1;
}

/** Whole calendar months: the 1st to the last day. */
export function monthEndPeriod(date: string): PeriodRange {
  const { y, m } = parse(date);
  return { startDate: format(y, m, 1), endDate: format(y, m, lastDayOf(y, m)) };
}

/** Periods starting on a fixed day (seed 003: "start on 26th of the month" → 26th to the 25th). */
export function fixedStartDayPeriod(date: string, startDay: number): PeriodRange {
  const { y, m, d } = parse(date);
  const startMonth = d >= startDay ? m : m - 1;
  return { startDate: format(y, startMonth, startDay), endDate: format(y, startMonth + 1, startDay - 1) };
}

/** Periods ending N days before each month's end (N = 0 is month end). */
export function daysBeforeMonthEndPeriod(date: string, n: number): PeriodRange {
  const { y, m, d } = parse(date);
  const endIn = (month: number) => {
    const first = parse(format(y, month, 1));
    return format(first.y, first.m, lastDayOf(first.y, first.m) - n);
  };
  const endMonth = d <= lastDayOf(y, m) - n ? m : m + 1;
  return { startDate: nextDay(endIn(endMonth - 1)), endDate: endIn(endMonth) };
}

/** The period of the configured kind that contains `date`. */
export function periodContaining(config: PeriodConfig, date: string): PeriodRange {
  switch (config.kind) {
    case 'month_end':
      return monthEndPeriod(date);
    case 'fixed_start_day':
      return fixedStartDayPeriod(date, config.day);
    case 'days_before_month_end':
      return daysBeforeMonthEndPeriod(date, config.day);
  }
}

/** Checks a period configuration; returns a message when it is not valid. */
export function invalidPeriodConfig(config: PeriodConfig): string | undefined {
  if (config.kind === 'fixed_start_day' && !(Number.isInteger(config.day) && config.day >= 1 && config.day <= 28)) {
    return 'the start day of a fixed-day period must be a whole number from 1 to 28';
  }
  if (config.kind === 'days_before_month_end' && !(Number.isInteger(config.day) && config.day >= 0 && config.day <= 27)) {
    return 'the number of days before month end must be a whole number from 0 to 27';
  }
  return undefined;
}

/** The calendar date of an instant in an IANA time zone. */
export function localDate(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

/** True when `timeZone` is an IANA name the runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone.trim() !== '';
  } catch {
    return false;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A period is named after the month its last day falls in ("October 2019"). */
export function periodName(endDate: string): string {
  const { y, m } = parse(endDate);
  return `${MONTHS[m - 1]} ${y}`;
}
