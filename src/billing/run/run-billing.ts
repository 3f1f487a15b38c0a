import { sql } from 'kysely';
import type { DB } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { billPeriods, getBillingSettings, resolvePeriod, type BillPeriod } from '../periods/bill-periods.js';
import type { BillingRunKind } from '../schema.js';
import { selectRulesInForce } from '../rules/apply-rules.js';
import { fillEmptyPeriod, rebuildPeriod } from './run-billing.queries.js';
import { billingRunDuration, billingRunItems } from '../../observability/metrics.js';

export interface RunBillingOptions {
  /** One period by its end date ('YYYY-MM-DD', 'Current' or 'Previous'); default: the open period plus any closed period not yet finalized. */
  period?: string;
  /** "Reprocess Billing Records": required to rebuild a closed period that was already finalized. */
  reprocess?: boolean;
  kind?: Exclude<BillingRunKind, 'reprocess'>;
  now?: Date;
  /** Progress lines for a console (one per phase per period). */
  onProgress?: (line: string) => void;
  /** Called once a period's run record exists, before the work: the console follows the run by this id. */
  onStart?: (runId: number, period: BillPeriod) => void;
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
  await failAbandonedRuns(db);
  const periods = await choosePeriods(db, opts, now);
  const results: PeriodRunResult[] = [];
  for (const period of periods)
    results.push(await runPeriod(db, caller, period, opts.reprocess ? 'reprocess' : (opts.kind ?? 'on_demand'), now, opts));
  return results;
}

/**
 * A run whose process died (kill -9, power loss) rolled its transaction back, but its record,
 * committed before the work so consoles can follow it, still says running. A live run holds its
 * record's row lock from the start of its transaction to the end, so a running record nobody holds
 * is abandoned. A run caught in the instant between writing its record and locking it would be
 * marked too, and puts its own outcome back when it finishes.
 */
async function failAbandonedRuns(db: DB): Promise<void> {
  await sql`
    update billing_runs set status = 'failed', finished_at = now(),
      error = 'The process running it stopped before it finished; nothing it wrote was kept (the run rolled back whole).'
    where id in (select id from billing_runs where status = 'running' for update skip locked)`.execute(db);
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

async function runPeriod(
  db: DB,
  caller: Caller,
  period: BillPeriod,
  kind: BillingRunKind,
  now: Date,
  opts: RunBillingOptions,
): Promise<PeriodRunResult> {
  const progress = opts.onProgress;
  const { timeZone } = await getBillingSettings(db);
  const run = await db
    .insertInto('billing_runs')
    .values({ bill_period_id: period.id, kind, status: 'running', actor_name: caller.userName })
    .returning('id')
    .executeTakeFirstOrThrow();
  opts.onStart?.(run.id, period);
  progress?.(`period ${period.endDate} (${period.name}, ${period.status}): computing items from the ledger…`);
  const started = performance.now();
  let result: PeriodRunResult;
  try {
    const counts = await db.transaction().execute(async (tx) => {
      // Held until commit or rollback: while it is, failAbandonedRuns knows this run is alive.
      await sql`select id from billing_runs where id = ${run.id} for update`.execute(tx);
      // Serialises runs of one period across processes (PGlite has one session anyway).
      // The period must still exist: bill_items has no foreign key to refuse items of a deleted one.
      const locked = await sql`select id from bill_periods where id = ${period.id} for update`.execute(tx);
      if (locked.rows.length === 0)
        throw new DomainError(
          'NotFound',
          `The billing period ending ${period.endDate} no longer exists (the period configuration changed); run billing again.`,
        );
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
    billingRunDuration.observe({ kind, outcome: 'succeeded' }, ms / 1000);
    billingRunItems.inc({ kind }, counts.items);
    progress?.(`period ${period.endDate}: ${counts.items} items (${counts.added} written, ${counts.removed} replaced or gone) in ${ms} ms`);
    result = { runId: run.id, period, ...counts, ms };
  } catch (e) {
    billingRunDuration.observe({ kind, outcome: 'failed' }, (performance.now() - started) / 1000);
    await db
      .updateTable('billing_runs')
      .set({ status: 'failed', finished_at: new Date(), error: (e as Error).message })
      .where('id', '=', run.id)
      .execute();
    throw e;
  }
  if (result.added + result.removed > 0) await refreshItemStatistics(db);
  return result;
}

/**
 * The planner's row counts for bill_items, refreshed after a run changed them. PGlite never
 * analyzes on its own and a server's autovacuum only after a delay: with the counts of the table
 * before a run, the planner takes a period of a million new items for a few dozen, and reads each
 * chunk of the detail download by scanning and sorting every remaining item of the period (each
 * chunk slower than the last, and on the embedded engine every other request waits for it).
 * After the run's try: the run has committed, and a failure here must not mark it failed.
 */
async function refreshItemStatistics(db: DB): Promise<void> {
  await sql`analyze bill_items`.execute(db);
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
      'billing_runs.id',
      'billing_runs.kind',
      'billing_runs.status',
      'billing_runs.actor_name',
      'billing_runs.started_at',
      'billing_runs.finished_at',
      'billing_runs.items',
      'billing_runs.error',
      sql<string>`to_char(bill_periods.end_date, 'YYYY-MM-DD')`.as('end_date'),
    ])
    .orderBy('billing_runs.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    periodEndDate: r.end_date,
    kind: r.kind,
    status: r.status,
    actor: r.actor_name,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    items: r.items,
    error: r.error,
  }));
}

export interface BillingRunProgress extends BillingRunRecord {
  added: number | null;
  removed: number | null;
  /** How long the last successful run of the same period took: what "nearly done" is measured against. */
  expectedMs: number | null;
  /** 0–100 while running (estimated from expectedMs, never 100 before the end), 100 when finished; null when there is nothing to estimate from. */
  percent: number | null;
}

/**
 * A billing run's state for a console following it ("Reprocess Billing Records" with progress).
 * The run is one statement per period, so progress is its state plus the time spent against the
 * previous run of the same period. Any process can answer: everything is read from the database.
 */
export async function billingRunProgress(db: DB, caller: Caller, runId: number, now = new Date()): Promise<BillingRunProgress> {
  requirePermission(caller, 'Manage Billing');
  const row = await db
    .selectFrom('billing_runs')
    .innerJoin('bill_periods', 'bill_periods.id', 'billing_runs.bill_period_id')
    .select([
      'billing_runs.id',
      'billing_runs.bill_period_id',
      'billing_runs.kind',
      'billing_runs.status',
      'billing_runs.actor_name',
      'billing_runs.started_at',
      'billing_runs.finished_at',
      'billing_runs.items',
      'billing_runs.items_added',
      'billing_runs.items_removed',
      'billing_runs.error',
      sql<string>`to_char(bill_periods.end_date, 'YYYY-MM-DD')`.as('end_date'),
    ])
    .where('billing_runs.id', '=', runId)
    .executeTakeFirst();
  if (!row) throw new DomainError('NotFound', `Billing run ${runId} not found.`);
  const previous = await sql<{ ms: number }>`
    select (extract(epoch from finished_at - started_at) * 1000)::int as ms from billing_runs
    where bill_period_id = ${row.bill_period_id} and status = 'succeeded' and id < ${row.id}
    order by id desc limit 1`.execute(db);
  const expectedMs = previous.rows[0]?.ms ?? null;
  const elapsed = now.getTime() - row.started_at.getTime();
  const percent = row.status !== 'running' ? 100 : expectedMs ? Math.min(95, Math.floor((elapsed / Math.max(expectedMs, 1)) * 100)) : null;
  return {
    id: row.id,
    periodEndDate: row.end_date,
    kind: row.kind,
    status: row.status,
    actor: row.actor_name,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    items: row.items,
    added: row.items_added,
    removed: row.items_removed,
    error: row.error,
    expectedMs,
    percent,
  };
}
