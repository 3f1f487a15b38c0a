import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import { jobsEnv } from '../../jobs/env.js';
import { Schedule } from '../../jobs/cron.js';
import {
  createJob,
  deleteJob,
  findTask,
  getJob,
  listJobs,
  previewSchedule,
  providerTimeZone,
  setJobEnabled,
  updateJob,
  type Job,
  type JobInput,
} from '../../jobs/job.service.js';
import { LOG_LEVELS } from '../../jobs/log-level.js';
import { checkParameters } from '../../jobs/parameters.js';
import { JobRunner } from '../../jobs/runner.js';
import { getRun, listRuns, logsToCsv, LOG_SORTS, runLogs, toRunDetail, type LogEntry, type LogSort } from '../../jobs/run.service.js';
import type { TaskRegistry } from '../../jobs/tasks/task.js';
import { xlsxBuffer } from '../spreadsheet.js';
import { MAX_EXPORT_ROWS, MAX_PAGE_SIZE } from '../../core/limits.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, bool, dateTime, id, idParams, int, nullableDateTime, obj, offset, pageSize, shape, str, text } from './schemas.js';
import type { RouteModule } from '../server.js';

const TAG = 'Console jobs';
const PERMISSION = 'Manage Jobs' as const;

const lastRunSchema = {
  type: ['object', 'null'],
  properties: { id: int(), status: str(), startedAt: nullableDateTime, finishedAt: nullableDateTime },
};
const jobSchema = shape({
  id: int(),
  label: str(),
  task: str(),
  taskLabel: str(),
  logLevel: str(),
  cron: str(),
  timeZone: str(),
  parameters: { type: 'object' },
  secretsSet: arrayOf(str()),
  enabled: bool,
  nextRunAt: nullableDateTime,
  lastRun: lastRunSchema,
  createdAt: dateTime,
  modifiedAt: dateTime,
});
const countsSchema = shape({ errors: int(), warnings: int(), info: int(), verbose: int(), changed: int() });
const runSchema = shape({
  id: int(),
  jobId: int(),
  status: str(),
  trigger: str(),
  dryRun: bool,
  scheduledFor: nullableDateTime,
  requestedBy: str(),
  queuedAt: dateTime,
  startedAt: nullableDateTime,
  finishedAt: nullableDateTime,
  counts: countsSchema,
  message: { type: ['string', 'null'] },
});
const changeSchema = shape({
  customerCode: str(),
  customerName: str(),
  billingId: str(),
  sku: str(),
  line: str(),
  action: { type: 'string', enum: ['update', 'create', 'zero'] },
  from: { type: 'number' },
  to: { type: 'number' },
});
const runDetailSchema = shape({
  ...(runSchema as { properties: Record<string, object> }).properties,
  changes: arrayOf(changeSchema, 100000),
});
const logEntrySchema = shape({
  id: int(),
  time: dateTime,
  code: str(),
  level: { type: 'string', enum: [...LOG_LEVELS] },
  message: str(8000),
});
const jobBody = obj({
  label: text(200),
  task: text(100),
  logLevel: { type: 'string', enum: [...LOG_LEVELS] },
  cron: text(200),
  timeZone: str(100),
  parameters: {
    anyOf: [
      { type: 'object', maxProperties: 100 },
      { type: 'string', maxLength: 100000 },
    ],
  },
  secrets: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 4000 } },
  enabled: bool,
});
const runParams = obj({ runId: id }, ['runId']);
/** An optional comment for the run log (why a diff was approved or rejected). */
const approvalBody = obj({ comment: str(1000) });
const commentOf = (body: unknown): string | undefined => (body as { comment?: string } | null)?.comment?.trim() || undefined;
const paging = { limit: pageSize(), offset: offset() };

/**
 * The console's Configuration > Jobs screens (seed 003): jobs, their editor's helpers (task
 * parameters with defaults, CRON preview in plain words, parameter checks as the operator
 * types), runs, and a run's log with sort, search and CSV / Excel download. Secrets go in and
 * never come out.
 */
export function jobsConsoleRoutes(opts: { registry?: TaskRegistry } = {}): RouteModule {
  return async (app: FastifyInstance, ctx: AppContext) => {
    const env = await jobsEnv(ctx, opts.registry);
    const runner = new JobRunner(ctx, env);
    const route = consoleRouter(app, ctx);
    const jobId = (req: { params: unknown }) => (req.params as { id: number }).id;
    const runId = (req: { params: unknown }) => (req.params as { runId: number }).runId;

    route(
      {
        method: 'GET',
        url: '/api/console/jobs',
        tag: TAG,
        permission: PERMISSION,
        summary: "Jobs with their next run (in the provider's time zone) and last run result",
        querystring: obj({
          search: str(200),
          sort: { type: 'string', enum: ['id', 'label', 'task', 'nextRunAt'] },
          order: { type: 'string', enum: ['asc', 'desc'] },
        }),
        response: { 200: shape({ jobs: arrayOf(jobSchema), timeZone: str() }) },
      },
      async (auth, req) => {
        const q = req.query as { search?: string; sort?: string; order?: string };
        const jobs = await listJobs(ctx.db, auth.caller, env, { search: q.search });
        return { jobs: sortJobs(jobs, q.sort, q.order), timeZone: await providerTimeZone(ctx.db) };
      },
    );

    route(
      {
        method: 'GET',
        url: '/api/console/jobs/tasks',
        tag: TAG,
        permission: PERMISSION,
        summary: "The Task drop-down: each task's parameters with defaults and descriptions, and its secret names",
        response: {
          200: shape({
            tasks: arrayOf(
              shape({ id: str(), label: str(), parameters: { type: 'object' }, defaults: { type: 'object' }, secrets: arrayOf(str()) }),
            ),
            logLevels: arrayOf(str()),
            timeZone: str(),
          }),
        },
      },
      async () => ({
        tasks: [...env.registry.values()].map((t) => ({
          id: t.id,
          label: t.label,
          parameters: Object.fromEntries(
            Object.entries(t.parameters).map(([name, p]) => [name, { default: p.default, description: p.description }]),
          ),
          // The editor pre-fills the Configuration box with these.
          defaults: Object.fromEntries(Object.entries(t.parameters).map(([name, p]) => [name, p.default])),
          secrets: t.secretNames,
        })),
        logLevels: [...LOG_LEVELS],
        timeZone: await providerTimeZone(ctx.db),
      }),
    );

    route(
      {
        method: 'GET',
        url: '/api/console/jobs/schedule',
        tag: TAG,
        permission: PERMISSION,
        summary: "CRON preview: the next five run times in the provider's time zone and the expression in plain words",
        querystring: obj({ cron: str(200), count: int({ minimum: 1, maximum: 20 }) }, ['cron']),
        response: { 200: shape({ cron: str(), timeZone: str(), description: str(1000), nextRuns: arrayOf(dateTime) }) },
      },
      async (_auth, req) => {
        const q = req.query as { cron: string; count?: number };
        const timeZone = await providerTimeZone(ctx.db);
        const schedule = Schedule.parse(q.cron, timeZone);
        return {
          cron: schedule.expression,
          timeZone,
          description: schedule.describe(),
          nextRuns: previewSchedule(q.cron, timeZone, q.count ?? 5),
        };
      },
    );

    route(
      {
        method: 'POST',
        url: '/api/console/jobs/check',
        tag: TAG,
        permission: PERMISSION,
        summary:
          "Check a task's JSON configuration as the operator types: every error next to its parameter, or the parameters as they would be saved",
        body: obj(
          {
            task: text(100),
            parameters: {
              anyOf: [
                { type: 'object', maxProperties: 100 },
                { type: 'string', maxLength: 100000 },
              ],
            },
          },
          ['task'],
        ),
        response: {
          200: shape({ errors: arrayOf(shape({ field: str(), message: str(1000) })), parameters: { type: ['object', 'null'] } }),
        },
      },
      async (_auth, req) => {
        const b = req.body as { task: string; parameters?: unknown };
        return checkParameters(findTask(env.registry, b.task).parameters, b.parameters);
      },
    );

    route(
      {
        method: 'POST',
        url: '/api/console/jobs',
        tag: TAG,
        permission: PERMISSION,
        summary: 'Create a job',
        body: jobBody,
        response: { 201: jobSchema },
      },
      async (auth, req, reply) =>
        reply.code(201).send(await inTransaction(ctx.db, (tx) => createJob(tx, auth.caller, env, jobInput(req.body)))),
    );
    route(
      {
        method: 'GET',
        url: '/api/console/jobs/:id',
        tag: TAG,
        permission: PERMISSION,
        summary: 'A job (secret values never appear, only which are set)',
        params: idParams,
        response: { 200: jobSchema },
      },
      async (auth, req) => getJob(ctx.db, auth.caller, env, jobId(req)),
    );
    route(
      {
        method: 'PATCH',
        url: '/api/console/jobs/:id',
        tag: TAG,
        permission: PERMISSION,
        params: idParams,
        body: jobBody,
        response: { 200: jobSchema },
        summary: 'Change a job; `secrets`, when given, replaces every stored secret (seed 003: re-enter the secrets and resave)',
      },
      async (auth, req) => inTransaction(ctx.db, (tx) => updateJob(tx, auth.caller, env, jobId(req), jobInput(req.body))),
    );
    route(
      {
        method: 'DELETE',
        url: '/api/console/jobs/:id',
        tag: TAG,
        permission: PERMISSION,
        summary: 'Delete a job and its runs',
        params: idParams,
      },
      async (auth, req, reply) => {
        await inTransaction(ctx.db, (tx) => deleteJob(tx, auth.caller, jobId(req)));
        return reply.code(204).send();
      },
    );
    route(
      {
        method: 'POST',
        url: '/api/console/jobs/:id/enable',
        tag: TAG,
        permission: PERMISSION,
        summary: 'Enable a job',
        params: idParams,
        response: { 200: jobSchema },
      },
      async (auth, req) => inTransaction(ctx.db, (tx) => setJobEnabled(tx, auth.caller, env, jobId(req), true)),
    );
    route(
      {
        method: 'POST',
        url: '/api/console/jobs/:id/disable',
        tag: TAG,
        permission: PERMISSION,
        summary: 'Disable a job (it stops running until enabled)',
        params: idParams,
        response: { 200: jobSchema },
      },
      async (auth, req) => inTransaction(ctx.db, (tx) => setJobEnabled(tx, auth.caller, env, jobId(req), false)),
    );

    // Run Now queues the run for a scheduler (202); a dry run is computed here and its diff returned.
    route(
      {
        method: 'POST',
        url: '/api/console/jobs/:id/run',
        tag: TAG,
        permission: PERMISSION,
        params: idParams,
        summary: 'Run Now (202, queued) or a dry run (200, its diff: customer, PSA company, SKU, action, old → new)',
        querystring: obj({ dryRun: bool }),
        body: { anyOf: [obj({ dryRun: bool }), { type: 'null' }] },
        response: { 200: runDetailSchema, 202: runDetailSchema },
      },
      async (auth, req, reply) => {
        const dryRun = (req.body as { dryRun?: boolean } | null)?.dryRun === true || (req.query as { dryRun?: boolean }).dryRun === true;
        if (dryRun) return toRunDetail(await runner.runNow(auth.caller, jobId(req), { dryRun: true }));
        return reply.code(202).send(toRunDetail(await runner.enqueue(auth.caller, jobId(req))));
      },
    );

    route(
      {
        method: 'GET',
        url: '/api/console/jobs/:id/runs',
        tag: TAG,
        permission: PERMISSION,
        params: idParams,
        querystring: obj(paging),
        summary: "A job's runs, newest first: start, end, status, counts by level",
        response: { 200: shape({ runs: arrayOf(runSchema, 500) }) },
      },
      async (auth, req) => ({ runs: await listRuns(ctx.db, auth.caller, jobId(req), req.query as { limit?: number; offset?: number }) }),
    );
    route(
      {
        method: 'GET',
        url: '/api/console/jobs/runs/:runId',
        tag: TAG,
        permission: PERMISSION,
        params: runParams,
        summary: "A run with its changes (a dry run's diff)",
        response: { 200: runDetailSchema },
      },
      async (auth, req) => getRun(ctx.db, auth.caller, runId(req)),
    );

    // RequireApproval (issue 11 §7): approve writes exactly the stored diff if it is still the diff, else stores the new one.
    route(
      {
        method: 'POST',
        url: '/api/console/jobs/runs/:runId/approve',
        tag: TAG,
        permission: PERMISSION,
        params: runParams,
        summary:
          'Approve a run awaiting approval: push exactly its diff if neither the PSA nor the billing changed since (else the run shows the new diff, awaiting approval again)',
        body: { anyOf: [approvalBody, { type: 'null' }] },
        response: { 200: runDetailSchema },
      },
      async (auth, req) => toRunDetail(await runner.approve(auth.caller, runId(req), commentOf(req.body))),
    );
    route(
      {
        method: 'POST',
        url: '/api/console/jobs/runs/:runId/reject',
        tag: TAG,
        permission: PERMISSION,
        params: runParams,
        summary: 'Reject a run awaiting approval: it ends Rejected and nothing is written',
        body: { anyOf: [approvalBody, { type: 'null' }] },
        response: { 200: runDetailSchema },
      },
      async (auth, req) => toRunDetail(await runner.reject(auth.caller, runId(req), commentOf(req.body))),
    );

    route(
      {
        method: 'GET',
        url: '/api/console/jobs/runs/:runId/logs',
        tag: TAG,
        permission: PERMISSION,
        params: runParams,
        summary: "A run's log entries: sort by time, code or level (Log Type), search code and message; format=csv or xlsx downloads them",
        querystring: obj({
          sort: { type: 'string', enum: [...LOG_SORTS] },
          order: { type: 'string', enum: ['asc', 'desc'] },
          search: str(200),
          format: { type: 'string', enum: ['json', 'csv', 'xlsx'] },
          limit: pageSize(),
          offset: offset(),
        }),
        response: { 200: shape({ entries: arrayOf(logEntrySchema, 100000) }) },
      },
      async (auth, req, reply) => {
        const q = req.query as {
          sort?: LogSort;
          order?: 'asc' | 'desc';
          search?: string;
          format?: string;
          limit?: number;
          offset?: number;
        };
        // A page for the screen; a file download holds the whole log up to the export limit.
        const download = q.format === 'csv' || q.format === 'xlsx';
        const entries = await runLogs(ctx.db, auth.caller, runId(req), {
          sort: q.sort,
          order: q.order,
          search: q.search,
          limit: download ? MAX_EXPORT_ROWS : (q.limit ?? MAX_PAGE_SIZE),
          offset: q.offset,
        });
        if (download) return sendLog(reply, runId(req), q.format as 'csv' | 'xlsx', entries);
        return { entries };
      },
    );
  };
}

async function sendLog(reply: FastifyReply, runId: number, format: 'csv' | 'xlsx', entries: LogEntry[]): Promise<FastifyReply> {
  const file = `job-run-${runId}.${format}`;
  reply.header('Content-Disposition', `attachment; filename="${file}"`);
  if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(logsToCsv(entries));
  const xlsx = await xlsxBuffer(
    `Run ${runId}`,
    [
      { header: 'Time', kind: 'date' },
      { header: 'Code', width: 8 },
      { header: 'Level', width: 10 },
      { header: 'Message', width: 120 },
    ],
    entries.map((e) => [e.time, e.code, e.level, e.message]),
  );
  return reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(xlsx);
}

function jobInput(body: unknown): JobInput {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    label: b.label as string | undefined,
    task: b.task as string | undefined,
    logLevel: b.logLevel as string | undefined,
    cron: b.cron as string | undefined,
    timeZone: b.timeZone as string | undefined,
    parameters: b.parameters,
    secrets: b.secrets,
    enabled: b.enabled as boolean | undefined,
  };
}

function sortJobs(jobs: Job[], sort: string | undefined, order: string | undefined): Job[] {
  const dir = order === 'desc' ? -1 : 1;
  const key = (j: Job): string | number =>
    sort === 'label'
      ? j.label.toLowerCase()
      : sort === 'nextRunAt'
        ? (j.nextRunAt?.getTime() ?? Number.MAX_SAFE_INTEGER)
        : sort === 'task'
          ? j.task
          : j.id;
  return [...jobs].sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : 0));
}
