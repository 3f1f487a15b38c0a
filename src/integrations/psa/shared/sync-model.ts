import { countLevel, type LevelCounts, type LogLevel } from '../../../jobs/log-level.js';
import type { BilledFor, SyncLine } from './sync-source.js';

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
  /** A per-customer reseller line (issue 11 §5): the code of the customer it is for. */
  billedFor?: string;
}

/** A change's identity for approval: the PSA company, the SKU, the customer of a per-customer line, and the quantity it goes from and to. */
export function changeKey(c: Pick<SyncChange, 'billingId' | 'sku' | 'from' | 'to' | 'billedFor'>): string {
  const line = c.billedFor ? `${c.sku}|${c.billedFor}` : c.sku;
  return `${c.billingId.toLowerCase()}|${line.toLowerCase()}|${c.from}|${c.to}`;
}

/*
 * Per-customer reseller lines (issue 11 §5, job parameter ResellerLinesPerCustomer). A PSA line
 * has no field for "which customer": the line's description names the customer and ends with a
 * marker holding its code, which is how the next run finds the line again. Lines without the
 * marker are the account's own (summed) lines; a marked line of a customer no longer billed that
 * way is a managed line Tenantry does not bill, and is reconciled to 0 like any other.
 */
const BILLED_FOR_MARKER = /\[customer ([A-Za-z0-9-]{1,32})\]\s*$/i;

/** "Hosted Exchange Basic for Billed Customer Ltd [customer BILLED-CUST]". */
export function perCustomerDescription(base: string, billedFor: BilledFor): string {
  return `${base} for ${billedFor.name} [customer ${billedFor.code}]`;
}

/** The customer code a PSA line's description marks it for (lower case), or '' for an account's own line. */
export function billedForKey(description: string | null | undefined): string {
  return (description ?? '').match(BILLED_FOR_MARKER)?.[1]?.toLowerCase() ?? '';
}

/** Lines of one SKU and one customer are one PSA line: the key both sides are matched by. */
export function lineKey(sku: string, billedFor: string): string {
  return `${sku.toLowerCase()}|${billedFor.toLowerCase()}`;
}

/** Two diffs are the same approval when they hold the same changes, in any order. */
export function sameDiff(a: readonly SyncChange[], b: readonly SyncChange[]): boolean {
  const keys = (d: readonly SyncChange[]) => d.map(changeKey).sort().join('\n');
  return keys(a) === keys(b);
}

/** Buffers log entries; `flushTo` passes them on (a check whose entries matter only when it fails). */
export class BufferedLog implements SyncLogSink {
  readonly #entries: [string, LogLevel, string][] = [];
  write(code: string, level: LogLevel, message: string): void {
    this.#entries.push([code, level, message]);
  }
  flushTo(sink: SyncLogSink): void {
    for (const e of this.#entries.splice(0)) sink.write(...e);
  }
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
  /** Explicit contract / agreement choice (issue 11 §6), as set on the customer; null when none. */
  psaContractId: string | null;
  psaAgreementId: string | null;
  /** Lines with a SKU, one per SKU (and per billed customer with ResellerLinesPerCustomer). */
  lines: SyncCustomerLine[];
  /** Lines without a SKU (AT07 / CW05). */
  missingSku: { description: string }[];
}

export interface SyncCustomerLine {
  sku: string;
  description: string;
  quantity: number;
  /** Per-customer reseller line: the customer billed to this one that the line is for. */
  billedFor?: BilledFor;
}

/** The customers of a run and the SKUs Tenantry manages (lower case): PSA lines of any other SKU are left alone. */
export interface SyncScope {
  customers: SyncCustomer[];
  managedSkus: ReadonlySet<string>;
}

/**
 * Groups summary lines by customer, summing quantities per SKU. Customers come out sorted by
 * code so logs and call order are stable from run to run.
 */
export function groupByCustomer(lines: readonly SyncLine[]): SyncCustomer[] {
  const byId = new Map<number, SyncCustomer>();
  const quantities = new Map<number, Map<string, SyncCustomerLine>>();
  for (const l of lines) {
    let c = byId.get(l.customerId);
    if (!c) {
      c = {
        customerId: l.customerId,
        code: l.customerCode,
        name: l.customerName,
        billingId: blankToNull(l.billingId),
        deprovisioned: l.deprovisioned,
        psaContractId: blankToNull(l.psaContractId ?? null),
        psaAgreementId: blankToNull(l.psaAgreementId ?? null),
        lines: [],
        missingSku: [],
      };
      byId.set(l.customerId, c);
      quantities.set(l.customerId, new Map());
    }
    if (l.customerOnly) continue;
    const sku = blankToNull(l.sku);
    if (sku === null) {
      c.missingSku.push({ description: l.lineDescription });
      continue;
    }
    const perSku = quantities.get(l.customerId)!;
    const key = lineKey(sku, l.billedFor?.code ?? '');
    const existing = perSku.get(key);
    if (existing) existing.quantity += units(l.quantity);
    else
      perSku.set(key, {
        sku,
        description: l.billedFor ? perCustomerDescription(l.lineDescription, l.billedFor) : l.lineDescription,
        quantity: units(l.quantity),
        ...(l.billedFor ? { billedFor: l.billedFor } : {}),
      });
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
