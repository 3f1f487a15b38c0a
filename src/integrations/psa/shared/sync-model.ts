import { countLevel, type LevelCounts, type LogLevel } from '../../../jobs/log-level.js';
import type { SyncLine } from './sync-source.js';

/** Where a sync writes its coded log entries (the job run log). */
export interface SyncLogSink {
  write(code: string, level: LogLevel, message: string): void;
}

/** Passes entries on and counts them per level, so a sync can report its status (AT24 / CW23). */
export class CountingSink implements SyncLogSink {
  readonly counts: LevelCounts = { error: 0, warning: 0, info: 0, verbose: 0 };

  constructor(private readonly inner: SyncLogSink) {}

  write(code: string, level: LogLevel, message: string): void {
    countLevel(this.counts, level);
    this.inner.write(code, level, message);
  }
}

/** A log code: its level and its message with the placeholders filled (seed 003 / 004 code tables). */
export interface CodeDef<P> {
  level: LogLevel;
  text: (p: P) => string;
}

/** Typed emitter over a vendor's code table, so a code can only be logged with its own placeholders. */
export class CodedLog<T extends Record<string, CodeDef<never>>> {
  constructor(
    private readonly table: T,
    private readonly sink: SyncLogSink,
  ) {}

  emit<K extends keyof T & string>(code: K, ...params: T[K] extends CodeDef<infer P> ? (P extends void ? [] : [P]) : never): void {
    const def = this.table[code] as unknown as CodeDef<unknown>;
    this.sink.write(code, def.level, def.text(params[0]));
  }
}

/** One line the sync changed, or would change on a dry run (issue 7 §7). */
export interface SyncChange {
  customerCode: string;
  customerName: string;
  billingId: string;
  sku: string;
  line: string;
  action: 'update' | 'create' | 'zero';
  from: number;
  to: number;
}

export interface SyncResult {
  /** Ended before processing customers (bad parameters or secrets, PSA or Tenantry unreachable). */
  aborted: boolean;
  changes: SyncChange[];
  /** PSA HTTP requests sent, retries included. */
  apiCalls: number;
  customers: number;
}

/** A customer's lines, with lines of one SKU summed (several plans can share a SKU). */
export interface SyncCustomer {
  customerId: number;
  code: string;
  name: string;
  billingId: string | null;
  deprovisioned: boolean;
  /** Lines with a SKU, one per SKU. */
  lines: { sku: string; description: string; quantity: number }[];
  /** Lines without a SKU (AT07 / CW05). */
  missingSku: { description: string }[];
}

/**
 * Groups summary lines by customer, summing quantities per SKU. Customers come out sorted by
 * code so logs and call order are stable from run to run.
 */
export function groupByCustomer(lines: readonly SyncLine[]): SyncCustomer[] {
  const byId = new Map<number, SyncCustomer>();
  const quantities = new Map<number, Map<string, { sku: string; description: string; quantity: number }>>();
  for (const l of lines) {
    let c = byId.get(l.customerId);
    if (!c) {
      c = { customerId: l.customerId, code: l.customerCode, name: l.customerName, billingId: blankToNull(l.billingId), deprovisioned: l.deprovisioned, lines: [], missingSku: [] };
      byId.set(l.customerId, c);
      quantities.set(l.customerId, new Map());
    }
    const sku = blankToNull(l.sku);
    if (sku === null) {
      c.missingSku.push({ description: l.lineDescription });
      continue;
    }
    const perSku = quantities.get(l.customerId)!;
    const existing = perSku.get(sku.toLowerCase());
    if (existing) existing.quantity += units(l.quantity);
    else perSku.set(sku.toLowerCase(), { sku, description: l.lineDescription, quantity: units(l.quantity) });
  }
  for (const [id, c] of byId) c.lines = [...quantities.get(id)!.values()];
  return [...byId.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/**
 * Customers in processing order: active ones, then de-provisioned ones with every line reduced
 * to zero (seed 003: de-provisioned customers are processed after the others, AT20/AT21).
 */
export function splitDeprovisioned(customers: readonly SyncCustomer[]): { active: SyncCustomer[]; deprovisioned: SyncCustomer[] } {
  return {
    active: customers.filter((c) => !c.deprovisioned),
    deprovisioned: customers.filter((c) => c.deprovisioned).map((c) => ({ ...c, lines: c.lines.map((l) => ({ ...l, quantity: 0 })) })),
  };
}

/**
 * PSA quantities are whole units (Autotask `unitChange` is int32, A.9). The summary's
 * currentPeriod counts units active at the period's end, so it is whole in practice; a
 * fractional value is rounded half up rather than truncated so a line is never silently dropped.
 */
export function units(quantity: string): number {
  const n = Number(quantity);
  return Number.isFinite(n) ? Math.round(n) : 0;
}

/** `.ToString("F")` of the seed's messages: two decimals. */
export function fixed2(n: number): string {
  return n.toFixed(2);
}

function blankToNull(value: string | null): string | null {
  return value === null || value.trim() === '' ? null : value.trim();
}

/** Parameters written as "True"/"False" strings in the seeds' examples, or as JSON booleans. */
export function parseFlag(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

/** CustomersFilter: "" or absent = all customers; a list of customer codes; or a comma-separated string. */
export function parseCustomersFilter(value: unknown): string[] | null {
  const list = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  const codes = list.map((s) => s.trim()).filter((s) => s !== '');
  return codes.length ? codes : null;
}

/** The message an error carries into a log entry. Never includes request headers, so credentials stay out. */
export function errorDetails(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
