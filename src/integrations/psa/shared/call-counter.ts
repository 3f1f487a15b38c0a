/**
 * Counts every HTTP request sent to a PSA, retries included, so a sync run can report
 * "API calls per sync" and stay inside Autotask's 10,000 requests/hour budget (psa-wire.md A.7).
 */
export class CallCounter {
  #total = 0;
  readonly #byOperation = new Map<string, number>();

  /** Records one HTTP request for `operation` (for example `POST Companies/query`). */
  record(operation: string): void {
    this.#total += 1;
    this.#byOperation.set(operation, (this.#byOperation.get(operation) ?? 0) + 1);
  }

  get total(): number {
    return this.#total;
  }

  /** Calls per operation, for benchmark reports. */
  byOperation(): Record<string, number> {
    return Object.fromEntries(this.#byOperation);
  }

  reset(): void {
    this.#total = 0;
    this.#byOperation.clear();
  }
}
