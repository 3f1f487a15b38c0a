import { Cron } from 'croner';
import { validation } from '../core/errors.js';

/**
 * A job's schedule: the seed's 5-field form (`0 22 26 * *`, minute first) or Atria's 6-field
 * form with seconds first (atria-notes §4, Cronos), evaluated in an IANA time zone.
 */
export class Schedule {
  readonly #cron: Cron;

  private constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    this.#cron = new Cron(expression, { timezone: timeZone, paused: true, mode: '5-or-6-parts' });
  }

  /** Parses or throws a ValidationError that says what is wrong with the expression. */
  static parse(expression: string, timeZone: string): Schedule {
    const text = expression.trim().replace(/\s+/g, ' ');
    if (text === '') throw validation('The CRON expression is required.');
    checkTimeZone(timeZone);
    try {
      return new Schedule(text, timeZone);
    } catch (e) {
      throw validation(`Invalid CRON expression '${text}': ${(e as Error).message.replace(/^CronPattern: /, '')}`, { field: 'cron' });
    }
  }

  /** The first fire time strictly after `after`, or null when the expression never fires again. */
  nextAfter(after: Date): Date | null {
    return this.#cron.nextRun(after);
  }

  /** Fire times in (from, to], at most `limit` of them (to list missed occurrences). */
  between(from: Date, to: Date, limit: number): Date[] {
    const out: Date[] = [];
    let cursor: Date | null = from;
    while (out.length < limit) {
      cursor = this.#cron.nextRun(cursor);
      if (!cursor || cursor.getTime() > to.getTime()) break;
      out.push(cursor);
    }
    return out;
  }
}

export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw validation(`Unknown time zone '${timeZone}' (use an IANA name such as Europe/London).`, { field: 'timeZone' });
  }
}
