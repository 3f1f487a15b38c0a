import { CompiledQuery } from 'kysely';
import { allowRequestTime } from '../core/request-context.js';
import type { Executor } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import { escapeLike, requirePermission, type Caller } from '../tenancy/caller.js';
import { assertReportSqlIsScoped, bindNamedParameters } from './report-sql.js';
import { SCOPE_CTES, relationNames, selectReports } from './report.queries.js';
import type { ReportColumn, ReportColumnType, ReportParameter } from './schema.js';

export interface Report {
  id: number;
  name: string;
  description: string;
  parameters: ReportParameter[];
  columns: ReportColumn[];
  timeoutMs: number;
}

export type ReportValue = string | number | boolean | Date | null;

/** A report query never runs longer than this (issue 16: 0 or -1 must not switch the limit off). */
export const MAX_REPORT_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * The limit a run gets: the seed's 0 ("no timeout") and anything above the maximum get the maximum,
 * so every report query ends; a negative or fractional value is refused (docs/decisions.md).
 */
export function reportTimeout(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0)
    throw new DomainError(
      'ReportError',
      `The report <timeout> must be a whole number of milliseconds (0 = the server's maximum of ${MAX_REPORT_TIMEOUT_MS}).`,
    );
  return ms === 0 ? MAX_REPORT_TIMEOUT_MS : Math.min(ms, MAX_REPORT_TIMEOUT_MS);
}

export interface ReportRun {
  name: string;
  /** Parameter values by name (case-insensitive); missing ones take the report's defaults. */
  parameters?: Record<string, string>;
  /** Milliseconds; 0 (the seed's "no timeout") = the server's maximum; undefined = the report's default. */
  timeoutMs?: number;
  /** Only these columns, by name; undefined = all. */
  columns?: string[];
}

export interface ReportResult {
  report: Report;
  columns: ReportColumn[];
  rows: ReportValue[][];
}

/** Supplied by the engine on every run (the seed: the caller's customer id is always added). */
const ENGINE_PARAMETERS: ReportParameter[] = [{ name: 'CallingCustomerID', type: 'int' }];

const PG_TYPE: Record<ReportColumnType, string> = {
  int: 'integer',
  nvarchar: 'text',
  datetime: 'timestamptz',
  bit: 'boolean',
  decimal: 'numeric',
};

export const reportNotFound = (name: string): DomainError => new DomainError('ReportNotFound', `Report '${name}' not found.`, { name });

type ReportRow = Awaited<ReturnType<ReturnType<typeof selectReports>['execute']>>[number];

function toReport(row: ReportRow): Report {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    parameters: row.parameters,
    columns: row.columns,
    timeoutMs: row.timeout_ms,
  };
}

export async function findReports(db: Executor, caller: Caller, name?: string): Promise<Report[]> {
  requirePermission(caller, 'View Reports');
  return (await selectReports(db, name).execute()).map(toReport);
}

/** The stored row, its query included. */
async function reportRow(db: Executor, caller: Caller, name: string): Promise<ReportRow> {
  requirePermission(caller, 'View Reports');
  return must((await selectReports(db, name).execute())[0], () => reportNotFound(name));
}

/**
 * Runs a report for the caller: its query sees only the caller's subtree, in a read-only
 * transaction under a statement timeout.
 */
export async function runReport(db: Executor, caller: Caller, run: ReportRun): Promise<ReportResult> {
  const row = await reportRow(db, caller, run.name);
  const report = toReport(row);
  const columns = pickColumns(report, run.columns);
  const tokens = assertReportSqlIsScoped(row.query, await relationNames(db));
  const declared = [...ENGINE_PARAMETERS, ...report.parameters];
  const typeOf = (name: string) => {
    const p = declared.find((d) => d.name.toLowerCase() === name.toLowerCase());
    return p && PG_TYPE[p.type];
  };
  const bound = bindNamedParameters(tokens, 2, typeOf);
  const values = bound.names.map((n) => parameterValue(report, caller, run.parameters ?? {}, n));
  const scope = caller.subtree ? escapeLike(caller.customerPath) + '%' : escapeLike(caller.customerPath);
  // Positional aliases: the definition names the columns, so duplicate or odd SQL names cannot collide.
  const aliases = report.columns.map((_, i) => `c${i}`).join(', ');
  const text = `with ${SCOPE_CTES} select * from (${bound.text}) as report(${aliases})`;
  const timeout = reportTimeout(run.timeoutMs ?? report.timeoutMs);
  // Run for an HTTP request, the report gets its own limit (enforced below) plus time to send its rows.
  allowRequestTime(timeout + 10_000);
  const rows = await db.transaction().execute(async (tx) => {
    await tx.executeQuery(CompiledQuery.raw('set transaction read only'));
    await tx.executeQuery(CompiledQuery.raw(`set local statement_timeout = ${Math.max(0, Math.floor(timeout))}`));
    try {
      return await fetchWithin(tx, text, [scope, ...values], timeout);
    } catch (e) {
      throw reportFailure(report, timeout, e);
    }
  });
  return { report, columns: columns.map((c) => c.column), rows: rows.map((r) => shape(r, report, columns)) };
}

const FETCH_ROWS = 500;
const TIMED_OUT = '57014';

/**
 * Reads the report through a cursor, checking the clock between chunks. The server enforces
 * statement_timeout itself; PGlite ignores it (measured), so there this check is what stops a
 * report whose rows stream — one that must sort or aggregate everything first still runs to the
 * end of that step before the check can fire.
 */
async function fetchWithin(tx: Executor, text: string, values: unknown[], timeout: number): Promise<Record<string, unknown>[]> {
  const started = Date.now();
  await tx.executeQuery(CompiledQuery.raw(`declare report_rows no scroll cursor for ${text}`, values));
  const rows: Record<string, unknown>[] = [];
  for (;;) {
    const chunk = (await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`fetch ${FETCH_ROWS} from report_rows`))).rows;
    rows.push(...chunk);
    if (chunk.length < FETCH_ROWS) return rows;
    if (timeout > 0 && Date.now() - started > timeout) throw Object.assign(new Error('report timed out'), { code: TIMED_OUT });
  }
}

function pickColumns(report: Report, wanted: string[] | undefined): { column: ReportColumn; index: number }[] {
  const all = report.columns.map((column, index) => ({ column, index }));
  if (!wanted || wanted.length === 0) return all;
  return wanted.map((name) => {
    const found = all.find((c) => c.column.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new DomainError('ReportError', `Report '${report.name}' has no column '${name}'.`);
    return found;
  });
}

function parameterValue(report: Report, caller: Caller, given: Record<string, string>, name: string): unknown {
  if (name.toLowerCase() === 'callingcustomerid') return caller.customerId;
  const def = report.parameters.find((p) => p.name.toLowerCase() === name.toLowerCase())!;
  const key = Object.keys(given).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key !== undefined ? given[key]! : def.default;
  if (raw === undefined) throw new DomainError('ReportError', `Report '${report.name}' needs the parameter '${def.name}'.`);
  if (def.type === 'int' && !/^-?\d{1,9}$/.test(raw.trim())) {
    throw new DomainError('ReportError', `The parameter '${def.name}' of report '${report.name}' must be an integer.`);
  }
  return raw;
}

/** The query's columns are matched to the definition by position, so SQL aliases never reach the wire. */
function shape(row: Record<string, unknown>, report: Report, picked: { index: number }[]): ReportValue[] {
  if (Object.keys(row).length !== report.columns.length) {
    throw new DomainError('ReportError', `Report '${report.name}' returns more columns than the ${report.columns.length} it defines.`);
  }
  return picked.map(({ index }) => row[`c${index}`] as ReportValue);
}

function reportFailure(report: Report, timeout: number, e: unknown): DomainError {
  const err = e as { code?: string; message?: string };
  if (err.code === TIMED_OUT) return new DomainError('ReportError', `Report '${report.name}' did not finish within ${timeout} ms.`);
  return new DomainError('ReportError', `Report '${report.name}' failed: ${err.message ?? String(e)}`);
}
