import { Cron } from 'croner';
import cronstrue from 'cronstrue';
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

  /**
   * Refuses a schedule whose next runs come closer together than `seconds` (an every-second billing
   * run would queue work faster than it can finish). The next 100 fire times are checked.
   */
  assertMinimumInterval(seconds: number, from: Date): void {
    const runs = this.between(from, new Date(8.64e15), 100);
    for (let i = 1; i < runs.length; i++) {
      if (runs[i]!.getTime() - runs[i - 1]!.getTime() < seconds * 1000) {
        throw validation(
          `The CRON expression '${this.expression}' runs more often than every ${seconds} seconds, the shortest interval allowed (TENANTRY_JOB_MIN_INTERVAL_SECONDS).`,
          { field: 'cron' },
        );
      }
    }
  }

  /** The first fire time strictly after `after`, or null when the expression never fires again. */
  nextAfter(after: Date): Date | null {
    return this.#cron.nextRun(after);
  }

  /** The expression in plain words ("At 22:00, on day 26 of the month"), as the editor shows it beside the preview. */
  describe(): string {
    try {
      return cronstrue.toString(this.expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
    } catch {
      // croner accepts a few forms cronstrue cannot word; the preview of run times still shows what it means.
      return this.expression;
    }
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
