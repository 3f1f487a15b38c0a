import type { DriverLog } from './drivers/driver.js';
import type { LogLine, StepTime } from './engine.queries.js';

/**
 * Collects a request's log lines and step times while a driver runs; the engine writes them in
 * the transaction that records the outcome, so a request's log always matches its status.
 */
export class RequestLog implements DriverLog {
  readonly lines: LogLine[] = [];
  readonly times: StepTime[] = [];

  info(message: string): void {
    this.add('info', message);
  }

  warning(message: string): void {
    this.add('warning', message);
  }

  verbose(message: string): void {
    this.add('verbose', message);
  }

  error(message: string): void {
    this.add('error', message);
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const startedAt = new Date();
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.times.push({ step: name, startedAt, durationMs: performance.now() - start });
    }
  }

  private add(level: LogLine['level'], message: string): void {
    this.lines.push({ at: new Date(), level, message });
  }
}
