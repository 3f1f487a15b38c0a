import type { Executor, Tx } from '../core/db/database.js';
import { getBillingSettings } from '../billing/periods/bill-periods.js';
import { DomainError, must, validation } from '../core/errors.js';
import type { SecretBox } from '../core/crypto.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { Schedule } from './cron.js';
import { selectJob, selectJobs, selectLastRuns, type JobRow, type RunRow } from './job.queries.js';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from './log-level.js';
import { parseParameters } from './parameters.js';
import type { RunStatus } from './run-status.js';
import type { TaskDefinition, TaskId, TaskRegistry } from './tasks/task.js';

/** What the jobs module needs besides the database. */
export interface JobsEnv {
  registry: TaskRegistry;
  box: SecretBox;
  /** Schedules may not fire more often than this (TENANTRY_JOB_MIN_INTERVAL_SECONDS); unset: no floor (tests). */
  minIntervalSeconds?: number;
}

export interface JobInput {
  label?: string;
  task?: string;
  logLevel?: string;
  cron?: string;
  /**
   * Accepted only when it names the provider's time zone: seed 003 evaluates CRON expressions in
   * the provider's zone, so a job has none of its own (change it in the billing settings).
   */
  timeZone?: string;
  parameters?: unknown;
  /** Replaces every stored secret when given (seed 003: re-enter the secrets and resave). */
  secrets?: unknown;
  enabled?: boolean;
}

/** A job as every API shows it: secret values never appear, only which names are set. */
export interface Job {
  id: number;
  label: string;
  task: TaskId;
  taskLabel: string;
  logLevel: LogLevel;
  cron: string;
  /** The zone nextRunAt was computed in: the provider's (the scheduler follows changes to it). */
  timeZone: string;
  parameters: Record<string, unknown>;
  secretsSet: string[];
  enabled: boolean;
  nextRunAt: Date | null;
  lastRun: { id: number; status: RunStatus; startedAt: Date | null; finishedAt: Date | null } | null;
  createdAt: Date;
  modifiedAt: Date;
}

export const jobNotFound = (id: number | string): DomainError => new DomainError('NotFound', `Job ${id} not found.`, { id });

function toJob(row: JobRow, lastRun: RunRow | undefined, registry: TaskRegistry): Job {
  return {
    id: row.id,
    label: row.label,
    task: row.task as TaskId,
    taskLabel: registry.get(row.task as TaskId)?.label ?? row.task,
    logLevel: row.log_level,
    cron: row.cron,
    timeZone: row.time_zone,
    parameters: row.parameters,
    secretsSet: row.secret_names,
    enabled: row.enabled,
    nextRunAt: row.next_run_at,
    lastRun: lastRun ? { id: lastRun.id, status: lastRun.status, startedAt: lastRun.started_at, finishedAt: lastRun.finished_at } : null,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

/** The provider's billing time zone, read fresh each time so a change applies without a restart. */
export async function providerTimeZone(db: Executor): Promise<string> {
  return (await getBillingSettings(db)).timeZone;
}

/** The provider's zone, refusing a different one given for a job (see JobInput.timeZone). */
async function jobTimeZone(db: Executor, given: string | undefined): Promise<string> {
  const zone = await providerTimeZone(db);
  const asked = given?.trim() ?? '';
  if (asked !== '' && asked !== zone) {
    throw validation(
      `Jobs run in the provider's time zone (${zone}); change it in the billing settings (tenantry billing settings --time-zone ${asked}) rather than per job.`,
      { field: 'timeZone' },
    );
  }
  return zone;
}

export function findTask(registry: TaskRegistry, task: string): TaskDefinition {
  const wanted = task.trim().toLowerCase();
  const def = [...registry.values()].find((t) => t.id === wanted || t.label.toLowerCase() === wanted);
  if (!def)
    throw validation(`Unknown task '${task}'. Tasks: ${[...registry.values()].map((t) => `${t.id} (${t.label})`).join(', ')}.`, {
      field: 'task',
    });
  return def;
}

export async function listJobs(db: Executor, caller: Caller, env: JobsEnv, filter: { search?: string } = {}): Promise<Job[]> {
  requirePermission(caller, 'Manage Jobs');
  let rows = await selectJobs(db);
  const q = filter.search?.trim().toLowerCase();
  if (q) rows = rows.filter((r) => r.label.toLowerCase().includes(q) || r.task.includes(q));
  const last = await selectLastRuns(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toJob(r, last.get(r.id), env.registry));
}

export async function getJob(db: Executor, caller: Caller, env: JobsEnv, id: number): Promise<Job> {
  requirePermission(caller, 'Manage Jobs');
  const row = must(await selectJob(db, id), () => jobNotFound(id));
  const last = await selectLastRuns(db, [id]);
  return toJob(row, last.get(id), env.registry);
}

export async function createJob(tx: Tx, caller: Caller, env: JobsEnv, input: JobInput, now = new Date()): Promise<Job> {
  requirePermission(caller, 'Manage Jobs');
  if (input.task === undefined) throw validation('The task is required.', { field: 'task' });
  const task = findTask(env.registry, input.task);
  const label = checkLabel(input.label);
  const logLevel = checkLogLevel(input.logLevel ?? 'Info');
  const timeZone = await jobTimeZone(tx, input.timeZone);
  const schedule = Schedule.parse(input.cron ?? '', timeZone);
  if (env.minIntervalSeconds !== undefined) schedule.assertMinimumInterval(env.minIntervalSeconds, now);
  const parameters = parseParameters(task.parameters, input.parameters);
  const secrets = input.secrets === undefined ? undefined : checkSecrets(task, input.secrets);
  const enabled = input.enabled ?? true;
  const row = await tx
    .insertInto('jobs')
    .values({
      label,
      task: task.id,
      log_level: logLevel,
      cron: schedule.expression,
      time_zone: timeZone,
      parameters: JSON.stringify(parameters),
      secrets_sealed: secrets ? env.box.seal(JSON.stringify(secrets)) : null,
      secret_names: JSON.stringify(secrets ? Object.keys(secrets) : []),
      enabled,
      next_run_at: enabled ? schedule.nextAfter(now) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toJob(row, undefined, env.registry);
}

/** Edits a job; the task cannot change (its parameters would not fit). Secrets given replace all stored ones. */
export async function updateJob(tx: Tx, caller: Caller, env: JobsEnv, id: number, input: JobInput, now = new Date()): Promise<Job> {
  requirePermission(caller, 'Manage Jobs');
  const row = must(await selectJob(tx, id), () => jobNotFound(id));
  const task = findTask(env.registry, row.task);
  if (input.task !== undefined && findTask(env.registry, input.task).id !== task.id) {
    throw validation('The task of a job cannot be changed; create a new job instead.', { field: 'task' });
  }
  // A job saved before a change of the provider's zone moves to the new one on its next edit too.
  const timeZone = await jobTimeZone(tx, input.timeZone);
  const schedule = Schedule.parse(input.cron ?? row.cron, timeZone);
  if (input.cron !== undefined && env.minIntervalSeconds !== undefined) schedule.assertMinimumInterval(env.minIntervalSeconds, now);
  const enabled = input.enabled ?? row.enabled;
  const secrets = input.secrets === undefined ? undefined : checkSecrets(task, input.secrets);
  const scheduleChanged = schedule.expression !== row.cron || timeZone !== row.time_zone || enabled !== row.enabled;
  const updated = await tx
    .updateTable('jobs')
    .set({
      ...(input.label === undefined ? {} : { label: checkLabel(input.label) }),
      ...(input.logLevel === undefined ? {} : { log_level: checkLogLevel(input.logLevel) }),
      ...(input.parameters === undefined ? {} : { parameters: JSON.stringify(parseParameters(task.parameters, input.parameters)) }),
      ...(secrets === undefined
        ? {}
        : { secrets_sealed: env.box.seal(JSON.stringify(secrets)), secret_names: JSON.stringify(Object.keys(secrets)) }),
      cron: schedule.expression,
      time_zone: timeZone,
      enabled,
      // A changed schedule starts from now: occurrences of the old one are not reported as missed.
      ...(scheduleChanged ? { next_run_at: enabled ? schedule.nextAfter(now) : null } : {}),
      modified_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const last = await selectLastRuns(tx, [id]);
  return toJob(updated, last.get(id), env.registry);
}

export function setJobEnabled(tx: Tx, caller: Caller, env: JobsEnv, id: number, enabled: boolean, now = new Date()): Promise<Job> {
  return updateJob(tx, caller, env, id, { enabled }, now);
}

/** Deletes a job with its runs and logs (seed 003: "permanently remove the job"). */
export async function deleteJob(tx: Tx, caller: Caller, id: number): Promise<void> {
  requirePermission(caller, 'Manage Jobs');
  const res = await tx.deleteFrom('jobs').where('id', '=', id).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw jobNotFound(id);
}

/** The next `count` fire times of a CRON expression, for the console's preview. */
export function previewSchedule(cron: string, timeZone: string, count = 5, from = new Date()): Date[] {
  const schedule = Schedule.parse(cron, timeZone);
  const out: Date[] = [];
  let cursor: Date | null = from;
  while (out.length < count && (cursor = schedule.nextAfter(cursor))) out.push(cursor);
  return out;
}

/** Opens a job's secrets. Throws when the key cannot decrypt them (reported by the task as AT16 / CW16). */
export function openSecrets(box: SecretBox, sealed: string | null): Record<string, string> {
  if (sealed === null) return {};
  const parsed = JSON.parse(box.open(sealed)) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new Error('the stored secrets are not a JSON object');
  return parsed as Record<string, string>;
}

function checkLabel(label: string | undefined): string {
  const s = label?.trim() ?? '';
  if (s === '') throw validation('The label is required.', { field: 'label' });
  if (s.length > 200) throw validation('The label is longer than 200 characters.', { field: 'label' });
  return s;
}

function checkLogLevel(level: string): LogLevel {
  const parsed = parseLogLevel(level);
  if (!parsed) throw validation(`Log level must be one of ${LOG_LEVELS.join(', ')}.`, { field: 'logLevel' });
  return parsed;
}

/** Secrets: a JSON object of strings whose names the task knows (matched without regard to case). */
function checkSecrets(task: TaskDefinition, raw: unknown): Record<string, string> {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      // The message must not echo the text: it holds the secrets.
      throw validation('The secrets are not valid JSON.', { field: 'secrets' });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw validation('The secrets must be a JSON object.', { field: 'secrets' });
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = task.secretNames.find((n) => n.toLowerCase() === key.toLowerCase());
    if (!name)
      throw validation(`Unknown secret '${key}'. The ${task.label} task uses: ${task.secretNames.join(', ')}.`, { field: 'secrets' });
    if (typeof v !== 'string') throw validation(`Secret ${name} must be a string.`, { field: 'secrets' });
    out[name] = v;
  }
  return out;
}
