import type { LogLevel } from '../../../jobs/log-level.js';
import type { SyncLogSink } from './sync-model.js';
import { InvalidBillingPeriod, type SyncLine, type SyncPeriod, type SyncQuantitySource } from './sync-source.js';

/** A run log held in memory, for tests and the benchmark. */
export class MemoryLog implements SyncLogSink {
  readonly entries: { code: string; level: LogLevel; message: string }[] = [];

  write(code: string, level: LogLevel, message: string): void {
    this.entries.push({ code, level, message });
  }

  codes(): string[] {
    return this.entries.map((e) => e.code);
  }

  find(code: string): { code: string; level: LogLevel; message: string }[] {
    return this.entries.filter((e) => e.code === code);
  }
}

/** A quantity source fed directly with lines (the sync's tests, the benchmark). */
export class StaticQuantitySource implements SyncQuantitySource {
  constructor(
    public lineList: SyncLine[],
    public period: SyncPeriod = monthOf(new Date()),
    /** SKUs managed besides those of the lines (a catalog SKU nobody is billed for). */
    public extraManaged: string[] = [],
  ) {}

  async resolvePeriod(selector: string): Promise<SyncPeriod> {
    if (selector === 'Current' || selector === 'Previous' || selector === this.period.endDate) return this.period;
    throw new InvalidBillingPeriod(`no bill period for ${selector}`);
  }

  async lines(_period: SyncPeriod, customerCodes: readonly string[] | null): Promise<SyncLine[]> {
    if (!customerCodes) return this.lineList;
    const wanted = new Set(customerCodes.map((c) => c.toLowerCase()));
    return this.lineList.filter((l) => wanted.has(l.customerCode.toLowerCase()));
  }
  async managedSkus(): Promise<string[]> {
    return [...new Set([...this.lineList.flatMap((l) => (l.sku ? [l.sku] : [])), ...this.extraManaged])];
  }
}

let nextCustomerId = 1;

/** A summary line with test defaults. */
export function line(fields: Partial<SyncLine> & { customerCode: string }): SyncLine {
  return {
    customerId: fields.customerId ?? customerIdFor(fields.customerCode),
    customerName: `${fields.customerCode} Ltd`,
    billingId: null,
    sku: null,
    lineDescription: `${fields.sku ?? 'no sku'} line`,
    quantity: '1',
    deprovisioned: false,
    ...fields,
  };
}

const ids = new Map<string, number>();
function customerIdFor(code: string): number {
  if (!ids.has(code)) ids.set(code, nextCustomerId++);
  return ids.get(code)!;
}

/** The calendar month around `day` as a bill period. */
export function monthOf(day: Date): SyncPeriod {
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
  const end = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0));
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  return { name: iso(start).slice(0, 7), startDate: iso(start), endDate: iso(end) };
}
