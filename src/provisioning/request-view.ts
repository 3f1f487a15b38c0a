import type { Executor } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import type { Caller } from '../tenancy/caller.js';
import {
  selectRequestById,
  selectRequestLog,
  selectRequestTimes,
  selectRequestsByParent,
  type RequestLogRow,
  type RequestRow,
  type RequestTimeRow,
} from './request.queries.js';

export interface RequestView {
  request: RequestRow;
  log?: RequestLogRow[];
  times?: RequestTimeRow[];
}

export interface RequestDetail {
  log?: boolean;
  times?: boolean;
}

/** The request row if it lies in the caller's subtree; another tenant's request is reported exactly like a missing one. */
export async function requestInScope(db: Executor, caller: Caller, id: number): Promise<RequestRow> {
  return must(
    await selectRequestById(db, caller, id).executeTakeFirst(),
    () => new DomainError('RequestNotFound', `Request '${id}' not found.`, { id }),
  );
}

/** One request in the caller's subtree. */
export async function viewRequest(db: Executor, caller: Caller, id: number, detail: RequestDetail = {}): Promise<RequestView> {
  const row = await requestInScope(db, caller, id);
  return (await withDetail(db, [row], detail))[0]!;
}

/** The children of a request, in the order they run. */
export async function viewChildRequests(
  db: Executor,
  caller: Caller,
  parentId: number,
  detail: RequestDetail = {},
): Promise<RequestView[]> {
  await requestInScope(db, caller, parentId);
  return withDetail(db, await selectRequestsByParent(db, caller, parentId).execute(), detail);
}

async function withDetail(db: Executor, rows: RequestRow[], detail: RequestDetail): Promise<RequestView[]> {
  const ids = rows.map((r) => r.id);
  const log = detail.log && ids.length ? await selectRequestLog(db, ids).execute() : undefined;
  const times = detail.times && ids.length ? await selectRequestTimes(db, ids).execute() : undefined;
  return rows.map((request) => ({
    request,
    ...(log ? { log: log.filter((l) => l.request_id === request.id) } : {}),
    ...(times ? { times: times.filter((t) => t.request_id === request.id) } : {}),
  }));
}
