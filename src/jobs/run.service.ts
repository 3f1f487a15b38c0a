import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import { DomainError, must, validation } from '../core/errors.js';
import { MAX_EXPORT_ROWS, MAX_PAGE_SIZE } from '../core/limits.js';
import { escapeLike, requirePermission, type Caller } from '../tenancy/caller.js';
import type { SyncChange } from '../integrations/psa/shared/sync-model.js';
import { selectJob, type RunRow } from './job.queries.js';
import { jobNotFound } from './job.service.js';
import type { LogLevel } from './log-level.js';
import type { RunStatus, RunTrigger } from './run-status.js';

/** A run as the run history shows it. */
export interface Run {
  id: number;
  jobId: number;
  status: RunStatus;
  trigger: RunTrigger;
  dryRun: boolean;
  scheduledFor: Date | null;
  requestedBy: string;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  counts: { errors: number; warnings: number; info: number; verbose: number; changed: number };
  message: string | null;
}

export interface RunDetail extends Run {
  changes: SyncChange[];
}

export interface LogEntry {
  id: number;
  time: Date;
  code: string;
  level: LogLevel;
  message: string;
}

export const LOG_SORTS = ['time', 'code', 'level'] as const;
export type LogSort = (typeof LOG_SORTS)[number];

export interface LogQuery {
  sort?: LogSort;
  order?: 'asc' | 'desc';
  /** Matches code or message (seed 003: "The search can be used to filter by the Code and Message fields"). */
  search?: string;
  limit?: number;
  offset?: number;
}

export const runNotFound = (id: number | string): DomainError => new DomainError('NotFound', `Job run ${id} not found.`, { id });

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    jobId: r.job_id,
    status: r.status,
    trigger: r.trigger,
    dryRun: r.dry_run,
    scheduledFor: r.scheduled_for,
    requestedBy: r.requested_by,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    counts: { errors: r.error_count, warnings: r.warning_count, info: r.info_count, verbose: r.verbose_count, changed: r.changed_count },
    message: r.message,
  };
}

export function toRunDetail(r: RunRow): RunDetail {
  return { ...toRun(r), changes: r.changes as SyncChange[] };
}

export async function listRuns(
  db: Executor,
  caller: Caller,
  jobId: number,
  page: { limit?: number; offset?: number } = {},
): Promise<Run[]> {
  requirePermission(caller, 'Manage Jobs');
  must(await selectJob(db, jobId), () => jobNotFound(jobId));
  const rows = await db
    .selectFrom('job_runs')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('id', 'desc')
    .limit(Math.min(page.limit ?? 50, MAX_PAGE_SIZE))
    .offset(page.offset ?? 0)
    .execute();
  return rows.map(toRun);
}

export async function getRun(db: Executor, caller: Caller, runId: number): Promise<RunDetail> {
  requirePermission(caller, 'Manage Jobs');
  const row = must(await db.selectFrom('job_runs').selectAll().where('id', '=', runId).executeTakeFirst(), () => runNotFound(runId));
  return toRunDetail(row);
}

const LEVEL_ORDER = sql<number>`case level when 'Error' then 0 when 'Warning' then 1 when 'Info' then 2 else 3 end`;

/** A run's log entries, sorted by time, code or level (seed 003 "order the results by error code") and searched by code or message. */
export async function runLogs(db: Executor, caller: Caller, runId: number, q: LogQuery = {}): Promise<LogEntry[]> {
  requirePermission(caller, 'Manage Jobs');
  must(await db.selectFrom('job_runs').select('id').where('id', '=', runId).executeTakeFirst(), () => runNotFound(runId));
  const sort = q.sort ?? 'time';
  if (!LOG_SORTS.includes(sort)) throw validation(`sort must be one of ${LOG_SORTS.join(', ')}.`, { field: 'sort' });
  const dir = q.order === 'desc' ? 'desc' : 'asc';
  let query = db.selectFrom('job_run_logs').select(['id', 'logged_at', 'code', 'level', 'message']).where('run_id', '=', runId);
  const search = q.search?.trim();
  if (search) {
    const pattern = `%${escapeLike(search.toLowerCase())}%`;
    query = query.where((eb) => eb.or([eb(eb.fn('lower', ['code']), 'like', pattern), eb(eb.fn('lower', ['message']), 'like', pattern)]));
  }
  if (sort === 'code') query = query.orderBy('code', dir);
  if (sort === 'level') query = query.orderBy(LEVEL_ORDER, dir);
  query = query.orderBy('id', sort === 'time' ? dir : 'asc');
  query = query.limit(Math.min(q.limit ?? MAX_PAGE_SIZE, MAX_EXPORT_ROWS));
  if (q.offset !== undefined) query = query.offset(q.offset);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, time: r.logged_at, code: r.code, level: r.level, message: r.message }));
}

/** Log entries as CSV for Excel (seed 003 "download the data into spreadsheet format"). */
export function logsToCsv(entries: readonly LogEntry[]): string {
  const lines = ['Time,Code,Level,Message'];
  for (const e of entries) lines.push([e.time.toISOString(), e.code, e.level, e.message].map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Quotes a cell; a leading = + - @ is defused so a customer name cannot become a spreadsheet formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
