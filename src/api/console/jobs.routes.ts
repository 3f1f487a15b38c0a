import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { validation } from '../../core/errors.js';
import { inTransaction } from '../../core/db/database.js';
import { jobsEnv } from '../../jobs/env.js';
import { createJob, deleteJob, getJob, listJobs, previewSchedule, providerTimeZone, setJobEnabled, updateJob, type Job, type JobInput } from '../../jobs/job.service.js';
import { JobRunner } from '../../jobs/runner.js';
import { getRun, listRuns, logsToCsv, LOG_SORTS, runLogs, toRunDetail, type LogSort } from '../../jobs/run.service.js';
import type { TaskRegistry } from '../../jobs/tasks/task.js';
import { consoleHandler } from './console-handler.js';
import type { RouteModule } from '../server.js';

/**
 * JSON endpoints of the console's Configuration > Jobs screens (seed 003). A user with the
 * "Manage Jobs" permission signs in with Basic auth. Secrets go in and never come out.
 */
export function jobsConsoleRoutes(opts: { registry?: TaskRegistry } = {}): RouteModule {
  return async (app: FastifyInstance, ctx: AppContext) => {
    const env = await jobsEnv(ctx, opts.registry);
    const runner = new JobRunner(ctx, env);
    const handle = consoleHandler(ctx, 'Manage Jobs');
    const id = (req: FastifyRequest, name = 'id'): number => {
      const raw = (req.params as Record<string, string>)[name] ?? '';
      if (!/^\d+$/.test(raw)) throw validation(`The ${name === 'id' ? 'job' : 'run'} id must be a whole number.`);
      return Number(raw);
    };
    const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;

    app.get('/api/console/jobs', handle(async (caller, req) => {
      const q = query(req);
      const jobs = await listJobs(ctx.db, caller, env, { search: q.search });
      return { jobs: sortJobs(jobs, q.sort, q.order) };
    }));
    app.get('/api/console/jobs/tasks', handle(async () => ({
      tasks: [...env.registry.values()].map((t) => ({
        id: t.id,
        label: t.label,
        parameters: Object.fromEntries(Object.entries(t.parameters).map(([name, p]) => [name, { default: p.default, description: p.description }])),
        secrets: t.secretNames,
      })),
      timeZone: await providerTimeZone(ctx.db),
    })));
    app.get('/api/console/jobs/schedule', handle(async (_caller, req) => {
      const q = query(req);
      const timeZone = q.timeZone || (await providerTimeZone(ctx.db));
      return { cron: q.cron, timeZone, nextRuns: previewSchedule(q.cron ?? '', timeZone, 5) };
    }));
    app.post('/api/console/jobs', handle(async (caller, req, reply) => {
      const job = await inTransaction(ctx.db, (tx) => createJob(tx, caller, env, jobInput(req.body)));
      return reply.code(201).send(job);
    }));
    app.get('/api/console/jobs/:id', handle(async (caller, req) => getJob(ctx.db, caller, env, id(req))));
    app.patch('/api/console/jobs/:id', handle(async (caller, req) => inTransaction(ctx.db, (tx) => updateJob(tx, caller, env, id(req), jobInput(req.body)))));
    app.delete('/api/console/jobs/:id', handle(async (caller, req, reply) => {
      await inTransaction(ctx.db, (tx) => deleteJob(tx, caller, id(req)));
      return reply.code(204).send();
    }));
    app.post('/api/console/jobs/:id/enable', handle(async (caller, req) => inTransaction(ctx.db, (tx) => setJobEnabled(tx, caller, env, id(req), true))));
    app.post('/api/console/jobs/:id/disable', handle(async (caller, req) => inTransaction(ctx.db, (tx) => setJobEnabled(tx, caller, env, id(req), false))));
    // Run Now queues the run for a scheduler; a dry run is computed here and its diff returned (issue 7 §7).
    app.post('/api/console/jobs/:id/run', handle(async (caller, req, reply) => {
      const body = (req.body ?? {}) as { dryRun?: unknown };
      const dryRun = body.dryRun === true || query(req).dryRun === 'true';
      if (dryRun) return toRunDetail(await runner.runNow(caller, id(req), { dryRun: true }));
      return reply.code(202).send(toRunDetail(await runner.enqueue(caller, id(req))));
    }));
    app.get('/api/console/jobs/:id/runs', handle(async (caller, req) => {
      const q = query(req);
      return { runs: await listRuns(ctx.db, caller, id(req), { limit: num(q.limit), offset: num(q.offset) }) };
    }));
    app.get('/api/console/jobs/runs/:runId', handle(async (caller, req) => getRun(ctx.db, caller, id(req, 'runId'))));
    app.get('/api/console/jobs/runs/:runId/logs', handle(async (caller, req, reply) => {
      const q = query(req);
      if (q.sort !== undefined && !(LOG_SORTS as readonly string[]).includes(q.sort)) throw validation(`sort must be one of ${LOG_SORTS.join(', ')}.`);
      const runId = id(req, 'runId');
      const entries = await runLogs(ctx.db, caller, runId, {
        sort: q.sort as LogSort | undefined,
        order: q.order === 'desc' ? 'desc' : 'asc',
        search: q.search,
        limit: num(q.limit),
        offset: num(q.offset),
      });
      if (q.format === 'csv') {
        return reply.header('Content-Type', 'text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="job-run-${runId}.csv"`).send(logsToCsv(entries));
      }
      return { entries };
    }));
  };
}

function jobInput(body: unknown): JobInput {
  if (typeof body !== 'object' || body === null) throw validation('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    if (b[k] === undefined) return undefined;
    if (typeof b[k] !== 'string') throw validation(`${k} must be a string.`, { field: k });
    return b[k];
  };
  if (b.enabled !== undefined && typeof b.enabled !== 'boolean') throw validation('enabled must be true or false.', { field: 'enabled' });
  return {
    label: str('label'), task: str('task'), logLevel: str('logLevel'), cron: str('cron'), timeZone: str('timeZone'),
    parameters: b.parameters, secrets: b.secrets, enabled: b.enabled as boolean | undefined,
  };
}

function sortJobs(jobs: Job[], sort: string | undefined, order: string | undefined): Job[] {
  const dir = order === 'desc' ? -1 : 1;
  const key = (j: Job): string | number =>
    sort === 'label' ? j.label.toLowerCase() : sort === 'nextRunAt' ? (j.nextRunAt?.getTime() ?? Number.MAX_SAFE_INTEGER) : sort === 'task' ? j.task : j.id;
  return [...jobs].sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : 0));
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw validation(`'${value}' is not a whole number.`);
  return Number(value);
}

