import { sql } from 'kysely';
import type { DB } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { billPeriods, getBillingSettings, resolvePeriod, type BillPeriod } from '../periods/bill-periods.js';
import type { BillingRunKind } from '../schema.js';
import { selectRulesInForce } from '../rules/apply-rules.js';
import { fillEmptyPeriod, rebuildPeriod } from './run-billing.queries.js';

export interface RunBillingOptions {
  /** One period by its end date ('YYYY-MM-DD', 'Current' or 'Previous'); default: the open period plus any closed period not yet finalized. */
  period?: string;
  /** "Reprocess Billing Records": required to rebuild a closed period that was already finalized. */
  reprocess?: boolean;
  kind?: Exclude<BillingRunKind, 'reprocess'>;
  now?: Date;
  /** Progress lines for a console (one per phase per period). */
  onProgress?: (line: string) => void;
}

export interface PeriodRunResult {
  runId: number;
  period: BillPeriod;
  items: number;
  added: number;
  removed: number;
  ms: number;
}

/**
 * The billing run: rebuilds the bill items of each chosen period from the ledger, each period in
 * one transaction with one set-based statement (readers see the old or the new items, never half).
 * Idempotent: a second run over the same ledger changes no row.
 */
export async function runBilling(db: DB, caller: Caller, opts: RunBillingOptions = {}): Promise<PeriodRunResult[]> {
  requirePermission(caller, 'Manage Billing');
  const now = opts.now ?? new Date();
  const periods = await choosePeriods(db, opts, now);
  const results: PeriodRunResult[] = [];
  for (const period of periods) results.push(await runPeriod(db, caller, period, opts.reprocess ? 'reprocess' : (opts.kind ?? 'on_demand'), now, opts.onProgress));
  return results;
}

async function choosePeriods(db: DB, opts: RunBillingOptions, now: Date): Promise<BillPeriod[]> {
  if (opts.period !== undefined) {
    const period = await resolvePeriod(db, opts.period, now);
    if (period.status === 'closed' && period.finalizedAt && !opts.reprocess) {
      throw new DomainError(
        'InvalidStatus',
        `The billing period ending ${period.endDate} is closed; rebuild it with an explicit reprocess (tenantry billing reprocess --period ${period.endDate}).`,
      );
    }
    return [period];
  }
  // seed 003: the daily run on the last day generates the complete data, then the period closes;
  // the first run after the end finalizes it once, and after that only a reprocess touches it.
  return (await billPeriods(db, now)).filter((p) => p.status === 'open' || (!opts.reprocess && p.finalizedAt === null));
}

async function runPeriod(db: DB, caller: Caller, period: BillPeriod, kind: BillingRunKind, now: Date, progress?: (line: string) => void): Promise<PeriodRunResult> {
  const { timeZone } = await getBillingSettings(db);
  const run = await db
    .insertInto('billing_runs')
    .values({ bill_period_id: period.id, kind, status: 'running', actor_name: caller.userName })
    .returning('id')
    .executeTakeFirstOrThrow();
  progress?.(`period ${period.endDate} (${period.name}, ${period.status}): computing items from the ledger…`);
  const started = performance.now();
  try {
    const counts = await db.transaction().execute(async (tx) => {
      // Serialises runs of one period across processes (PGlite has one session anyway).
      // The period must still exist: bill_items has no foreign key to refuse items of a deleted one.
      const locked = await sql`select id from bill_periods where id = ${period.id} for update`.execute(tx);
      if (locked.rows.length === 0) throw new DomainError('NotFound', `The billing period ending ${period.endDate} no longer exists (the period configuration changed); run billing again.`);
      // The planner over-estimates this statement's CTEs by orders of magnitude and would spend
      // seconds JIT-compiling it; the statement itself runs in well under a second per 100k rows.
      await sql`set local jit = off`.execute(tx);
      // The window sort over a month of ledger rows spills to disk at the default 4MB (on PGlite: to memory-backed files).
      await sql`set local work_mem = '64MB'`.execute(tx);
      // Read after the lock, in this transaction: the statement inlines them, so it decides with exactly these.
      const rules = await selectRulesInForce(tx, period.startDate, period.endDate);
      const stored = await sql`select 1 from bill_items where bill_period_id = ${period.id} limit 1`.execute(tx);
      const bounds = { ...period, timeZone };
      const r = (await (stored.rows.length ? rebuildPeriod(bounds, rules) : fillEmptyPeriod(bounds, rules)).execute(tx)).rows[0]!;
      await tx
        .updateTable('bill_periods')
        .set({ last_run_at: now, ...(period.status === 'closed' ? { finalized_at: now } : {}) })
        .where('id', '=', period.id)
        .execute();
      await tx
        .updateTable('billing_runs')
        .set({ status: 'succeeded', finished_at: new Date(), items: r.items, items_added: r.added, items_removed: r.removed })
        .where('id', '=', run.id)
        .execute();
      return r;
    });
    const ms = Math.round(performance.now() - started);
    progress?.(`period ${period.endDate}: ${counts.items} items (${counts.added} written, ${counts.removed} replaced or gone) in ${ms} ms`);
    return { runId: run.id, period, ...counts, ms };
  } catch (e) {
    await db
      .updateTable('billing_runs')
      .set({ status: 'failed', finished_at: new Date(), error: (e as Error).message })
      .where('id', '=', run.id)
      .execute();
    throw e;
  }
}

export interface BillingRunRecord {
  id: number;
  periodEndDate: string;
  kind: BillingRunKind;
  status: string;
  actor: string;
  startedAt: Date;
  finishedAt: Date | null;
  items: number | null;
  error: string | null;
}

/** The latest run records, newest first. */
export async function billingRuns(db: DB, limit = 20): Promise<BillingRunRecord[]> {
  const rows = await db
    .selectFrom('billing_runs')
    .innerJoin('bill_periods', 'bill_periods.id', 'billing_runs.bill_period_id')
    .select([
      'billing_runs.id', 'billing_runs.kind', 'billing_runs.status', 'billing_runs.actor_name', 'billing_runs.started_at',
      'billing_runs.finished_at', 'billing_runs.items', 'billing_runs.error',
      sql<string>`to_char(bill_periods.end_date, 'YYYY-MM-DD')`.as('end_date'),
    ])
    .orderBy('billing_runs.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id, periodEndDate: r.end_date, kind: r.kind, status: r.status, actor: r.actor_name,
    startedAt: r.started_at, finishedAt: r.finished_at, items: r.items, error: r.error,
  }));
}
