import type { DB } from '../core/db/database.js';
import type { SyncLogSink } from '../integrations/psa/shared/sync-model.js';
import { countLevel, isKept, type LevelCounts, type LogLevel } from './log-level.js';

/** Entries per INSERT: a 5,000-line sync writes its log in a handful of statements. */
const FLUSH_AT = 500;

/**
 * A run's log: keeps only entries at or above the job's level (issue 7 §3) but counts every
 * level, so the run's status reflects warnings and errors even when they are not kept.
 * Entries are buffered and written in batches in order.
 */
export class RunLogWriter implements SyncLogSink {
  readonly counts: LevelCounts = { error: 0, warning: 0, info: 0, verbose: 0 };
  #buffer: { run_id: number; code: string; level: LogLevel; message: string; logged_at: Date }[] = [];
  #pending: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(
    private readonly db: DB,
    private readonly runId: number,
    private readonly threshold: LogLevel,
  ) {}

  write(code: string, level: LogLevel, message: string): void {
    countLevel(this.counts, level);
    if (!isKept(level, this.threshold)) return;
    this.#buffer.push({ run_id: this.runId, code, level, message, logged_at: new Date() });
    if (this.#buffer.length >= FLUSH_AT) this.#drain();
  }

  /** Writes everything buffered; rethrows a failed earlier write. */
  async flush(): Promise<void> {
    this.#drain();
    await this.#pending;
    if (this.#failure) throw this.#failure;
  }

  #drain(): void {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#pending = this.#pending.then(async () => {
      try {
        await this.db.insertInto('job_run_logs').values(batch).execute();
      } catch (e) {
        this.#failure ??= e;
      }
    });
  }
}
