import os from 'node:os';
import { sql } from 'kysely';
import type { AppContext } from '../core/context.js';
import { inTransaction } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { Schedule } from './cron.js';
import { advanceNextRun, moveJobToZone, selectDueJobs, selectJob, selectJobsOutOfZone, type JobRow, type RunRow } from './job.queries.js';
import { jobNotFound, openSecrets, providerTimeZone, type JobsEnv } from './job.service.js';
import { RunLogWriter } from './run-log.js';
import { completedStatus } from './run-status.js';
import { jobRuns } from '../observability/metrics.js';
import { queueMail } from '../mail/outbox.js';
import type { TaskOutcome } from './tasks/task.js';
import type { SyncChange } from '../integrations/psa/shared/sync-model.js';
import { runNotFound } from './run.service.js';

export interface RunnerOptions {
  /** Written on each run this process executes; defaults to host:pid. */
  owner?: string;
  /** How often a running run proves its process is alive. */
  heartbeatMs?: number;
  /** A running run whose heartbeat is older than this is dead: its process stopped (issue 7 §2). */
  leaseMs?: number;
  /** An occurrence noticed later than this after its time is reported as missed instead of run. */
  missedAfterMs?: number;
  /** Runs this process executes at once (different jobs; one job never runs twice at once). */
  concurrency?: number;
}

/** Missed occurrences recorded one by one; beyond this the last row says how many more there were. */
const MAX_MISSED_ROWS = 20;

/**
 * Scheduling and execution of job runs, safe with several processes on one PostgreSQL:
 * - a schedule fires once: the next fire time advances by compare-and-set, and a unique index
 *   on (job_id, scheduled_for) refuses a second run of one occurrence;
 * - a job never runs twice at once: a partial unique index allows one Running run per job;
 * - a run whose process died is found by its stale heartbeat and marked Failed;
 * - an occurrence that passed while no process was running is recorded as Missed;
 * - CRON is evaluated in the provider's time zone as it is now: each pass reads it, so a change
 *   of the billing time zone moves the next fire times without a restart.
 */
export class JobRunner {
  readonly owner: string;
  readonly #opts: Required<Omit<RunnerOptions, 'owner'>>;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Runs this process is executing now: alive whatever their heartbeat says (a loaded machine delays it). */
  readonly #executing = new Set<number>();

  constructor(
    private readonly app: AppContext,
    private readonly env: JobsEnv,
    opts: RunnerOptions = {},
  ) {
    this.owner = opts.owner ?? `${os.hostname()}:${process.pid}`;
    this.#opts = {
      heartbeatMs: opts.heartbeatMs ?? 10_000,
      leaseMs: opts.leaseMs ?? 60_000,
      missedAfterMs: opts.missedAfterMs ?? 120_000,
      concurrency: opts.concurrency ?? 2,
    };
  }

  /** One scheduler pass: reap dead runs, fire due schedules, start queued runs (not awaited). */
  async tick(now = new Date()): Promise<void> {
    await this.reapDeadRuns(now);
    const timeZone = await providerTimeZone(this.app.db);
    await this.followProviderZone(now, timeZone);
    await this.fireDueSchedules(now, timeZone);
    while (this.#inFlight.size < this.#opts.concurrency) {
      const run = await this.#claimQueued();
      if (!run) break;
      this.#track(this.execute(run));
    }
  }

  /** Waits for the runs this process started. */
  async drain(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  /** Queues a run for any scheduler process to pick up ("Run Now" in the console). */
  async enqueue(caller: Caller, jobId: number): Promise<RunRow> {
    requirePermission(caller, 'Manage Jobs');
    must(await selectJob(this.app.db, jobId), () => jobNotFound(jobId));
    return this.app.db
      .insertInto('job_runs')
      .values({ job_id: jobId, status: 'Queued', trigger: 'manual', requested_by: caller.userName, changes: '[]' })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Runs a job in this process and waits for the end (the CLI, and dry runs from the console,
   * whose diff the caller waits for). Refused while another run of the job is running.
   */
  async runNow(caller: Caller, jobId: number, opts: { dryRun?: boolean } = {}): Promise<RunRow> {
    requirePermission(caller, 'Manage Jobs');
    must(await selectJob(this.app.db, jobId), () => jobNotFound(jobId));
    await this.reapDeadRuns(new Date());
    const now = new Date();
    let run: RunRow;
    try {
      run = await this.app.db
        .insertInto('job_runs')
        .values({
          job_id: jobId,
          status: 'Running',
          trigger: 'manual',
          dry_run: opts.dryRun ?? false,
          requested_by: caller.userName,
          started_at: now,
          heartbeat_at: now,
          owner: this.owner,
          changes: '[]',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (e) {
      if (isUniqueViolation(e)) throw new DomainError('Conflict', `Job ${jobId} is already running; wait for that run to end.`, { jobId });
      throw e;
    }
    return this.execute(run);
  }

  /**
   * Approves a run AwaitingApproval (RequireApproval, issue 11 §7) and runs it here: the diff is
   * recomputed and, when it is still the approved one, exactly that diff is written; otherwise the
   * run stores the new diff and waits again. Refused while another run of the job is running.
   */
  async approve(caller: Caller, runId: number, comment?: string): Promise<RunRow> {
    requirePermission(caller, 'Manage Jobs');
    await this.reapDeadRuns(new Date());
    let run: RunRow | undefined;
    try {
      run = await this.app.db
        .updateTable('job_runs')
        .set({ status: 'Running', heartbeat_at: new Date(), owner: this.owner })
        .where('id', '=', runId)
        .where('status', '=', 'AwaitingApproval')
        .returningAll()
        .executeTakeFirst();
    } catch (e) {
      if (isUniqueViolation(e))
        throw new DomainError('Conflict', `Another run of this job is running; approve run ${runId} when it has ended.`, { runId });
      throw e;
    }
    if (!run) throw await this.#notAwaiting(runId);
    return this.execute(run, { changes: run.changes as SyncChange[], by: caller.userName + (comment ? ` ("${comment}")` : '') });
  }

  /** Rejects a run AwaitingApproval: it ends Rejected and nothing is written. */
  async reject(caller: Caller, runId: number, comment?: string): Promise<RunRow> {
    requirePermission(caller, 'Manage Jobs');
    const run = await this.app.db
      .updateTable('job_runs')
      .set({ status: 'Rejected', finished_at: new Date(), message: `Rejected by ${caller.userName}; nothing was written to the PSA.` })
      .where('id', '=', runId)
      .where('status', '=', 'AwaitingApproval')
      .returningAll()
      .executeTakeFirst();
    if (!run) throw await this.#notAwaiting(runId);
    const writer = new RunLogWriter(this.app.db, runId, 'Verbose');
    writer.write(
      'JB07',
      'Info',
      `The diff of ${(run.changes as SyncChange[]).length} changes was rejected by ${caller.userName}${comment ? ` ("${comment}")` : ''}.`,
    );
    await writer.flush();
    return run;
  }

  async #notAwaiting(runId: number): Promise<DomainError> {
    const row = await this.app.db.selectFrom('job_runs').select('status').where('id', '=', runId).executeTakeFirst();
    if (!row) return runNotFound(runId);
    return new DomainError('InvalidStatus', `Run ${runId} is not awaiting approval (its status is ${row.status}).`, { runId });
  }

  /** Marks runs whose process stopped heart-beating as Failed, with a JB03 entry saying why. */
  async reapDeadRuns(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.#opts.leaseMs);
    // One transaction: nobody (a console, a test, a process dying between the two) sees a run Failed without its reason.
    return inTransaction(this.app.db, async (tx) => {
      const dead = await tx
        .updateTable('job_runs')
        // The JB03 entry below counts as the run's error.
        .set((eb) => ({
          status: 'Failed',
          finished_at: now,
          message: 'The process running this job stopped before the run ended.',
          error_count: eb('error_count', '+', 1),
        }))
        .where('status', '=', 'Running')
        .where('heartbeat_at', '<', cutoff)
        .$if(this.#executing.size > 0, (qb) => qb.where('id', 'not in', [...this.#executing]))
        .returning(['id', 'owner', 'heartbeat_at'])
        .execute();
      if (dead.length) {
        await tx
          .insertInto('job_run_logs')
          .values(
            dead.map((r) => ({
              run_id: r.id,
              code: 'JB03',
              level: 'Error' as const,
              message: `The process running this job (${r.owner ?? 'unknown'}) stopped responding at ${r.heartbeat_at?.toISOString() ?? 'an unknown time'}; the run was marked failed.`,
              logged_at: now,
            })),
          )
          .execute();
      }
      return dead.length;
    });
  }

  /**
   * Recomputes the next fire time of jobs scheduled in another zone than the provider's (the
   * provider changed its billing time zone). A job already due keeps that occurrence: it fires
   * below and its following one is computed in the new zone.
   */
  async followProviderZone(now: Date, timeZone?: string): Promise<number> {
    const zone = timeZone ?? (await providerTimeZone(this.app.db));
    let moved = 0;
    for (const job of await selectJobsOutOfZone(this.app.db, zone, now)) {
      const schedule = await this.#schedule(job, zone);
      if (!schedule) continue;
      const next = job.enabled ? schedule.nextAfter(now) : null;
      if (await moveJobToZone(this.app.db, job, zone, next)) {
        moved += 1;
        this.app.logger.info(
          { jobId: job.id, from: job.time_zone, to: zone, nextRunAt: next?.toISOString() },
          'job schedule moved to the provider time zone',
        );
      }
    }
    return moved;
  }

  /** Fires every due schedule once across processes; occurrences found too late are recorded as Missed. */
  async fireDueSchedules(now: Date, timeZone?: string): Promise<void> {
    const zone = timeZone ?? (await providerTimeZone(this.app.db));
    for (const job of await selectDueJobs(this.app.db, now)) {
      const due = job.next_run_at!;
      const schedule = await this.#schedule(job, zone);
      if (!schedule) continue;
      if (!(await advanceNextRun(this.app.db, job.id, due, schedule.nextAfter(now), zone))) continue;
      const occurrences = [due, ...schedule.between(due, now, MAX_MISSED_ROWS * 50)];
      const late = occurrences.filter((o) => now.getTime() - o.getTime() > this.#opts.missedAfterMs);
      const onTime = occurrences.filter((o) => now.getTime() - o.getTime() <= this.#opts.missedAfterMs);
      await this.#recordMissed(job, late, now);
      // Several on-time occurrences in one pass (a seconds schedule): the latest stands for them.
      const latest = onTime.at(-1);
      if (latest) await this.#queueScheduled(job, latest, now);
    }
  }

  /** The job's schedule in `zone`; an expression that no longer parses disables the job. */
  async #schedule(job: JobRow, zone: string): Promise<Schedule | undefined> {
    try {
      return Schedule.parse(job.cron, zone);
    } catch (e) {
      this.app.logger.error({ jobId: job.id, err: (e as Error).message }, 'job has an invalid schedule; disabled');
      await this.app.db.updateTable('jobs').set({ enabled: false, next_run_at: null }).where('id', '=', job.id).execute();
      return undefined;
    }
  }

  async #recordMissed(job: JobRow, late: Date[], now: Date): Promise<void> {
    const shown = late.slice(-MAX_MISSED_ROWS);
    for (const [i, at] of shown.entries()) {
      const more =
        i === shown.length - 1 && late.length > shown.length ? ` (${late.length - shown.length} earlier occurrences were missed too)` : '';
      const message = `The run scheduled for ${at.toISOString()} was missed: no Tenantry process was running the scheduler then${more}.`;
      await this.#insertFinished(job.id, at, 'Missed', 'JB02', 'Warning', message, now);
    }
  }

  async #queueScheduled(job: JobRow, at: Date, now: Date): Promise<void> {
    const waiting = await this.app.db
      .selectFrom('job_runs')
      .select('id')
      .where('job_id', '=', job.id)
      .where('status', '=', 'Queued')
      .where('dry_run', '=', false)
      .executeTakeFirst();
    if (waiting) {
      await this.#insertFinished(
        job.id,
        at,
        'Skipped',
        'JB04',
        'Warning',
        `The run scheduled for ${at.toISOString()} was skipped: run ${waiting.id} of this job was still waiting to start.`,
        now,
      );
      return;
    }
    await this.app.db
      .insertInto('job_runs')
      .values({ job_id: job.id, status: 'Queued', trigger: 'schedule', scheduled_for: at, requested_by: 'schedule', changes: '[]' })
      .onConflict((oc) => oc.columns(['job_id', 'scheduled_for']).where('scheduled_for', 'is not', null).doNothing())
      .execute();
  }

  async #insertFinished(
    jobId: number,
    at: Date,
    status: 'Missed' | 'Skipped',
    code: string,
    level: 'Warning',
    message: string,
    now: Date,
  ): Promise<void> {
    const run = await this.app.db
      .insertInto('job_runs')
      .values({
        job_id: jobId,
        status,
        trigger: 'schedule',
        scheduled_for: at,
        requested_by: 'schedule',
        finished_at: now,
        warning_count: 1,
        message,
        changes: '[]',
      })
      .onConflict((oc) => oc.columns(['job_id', 'scheduled_for']).where('scheduled_for', 'is not', null).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (run) await this.app.db.insertInto('job_run_logs').values({ run_id: run.id, code, level, message, logged_at: now }).execute();
  }

  /** Claims the oldest queued run whose job is not running, skipping rows other processes hold. */
  async #claimQueued(): Promise<RunRow | undefined> {
    try {
      return await this.app.db.transaction().execute(async (tx) => {
        const candidate = await tx
          .selectFrom('job_runs as r')
          .select('r.id')
          .where('r.status', '=', 'Queued')
          .where((eb) =>
            eb.or([
              eb('r.dry_run', '=', true),
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('job_runs as x')
                    .select('x.id')
                    .whereRef('x.job_id', '=', 'r.job_id')
                    .where('x.status', '=', 'Running')
                    .where('x.dry_run', '=', false),
                ),
              ),
            ]),
          )
          .orderBy('r.id')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!candidate) return undefined;
        // The database's clock when the claim writes: later than the end of the run before it, which
        // committed before this claim's check saw no run of the job running (a time the process took
        // before its transaction could be earlier than that end).
        const at = sql<Date>`clock_timestamp()`;
        return tx
          .updateTable('job_runs')
          .set({ status: 'Running', started_at: at, heartbeat_at: at, owner: this.owner })
          .where('id', '=', candidate.id)
          .returningAll()
          .executeTakeFirst();
      });
    } catch (e) {
      // Another process started a run of the same job a moment ago: leave this one queued.
      if (isUniqueViolation(e)) return undefined;
      throw e;
    }
  }

  /** Executes a claimed run to its end and records status, counts and the diff. */
  async execute(run: RunRow, approval?: { changes: SyncChange[]; by: string }): Promise<RunRow> {
    const { db, logger } = this.app;
    const job = await selectJob(db, run.job_id);
    const task = job ? this.env.registry.get(job.task as never) : undefined;
    const writer = new RunLogWriter(db, run.id, job?.log_level ?? 'Verbose');
    this.#executing.add(run.id);
    const heartbeat = setInterval(() => {
      db.updateTable('job_runs')
        .set({ heartbeat_at: new Date() })
        .where('id', '=', run.id)
        .where('status', '=', 'Running')
        .execute()
        .catch((e: unknown) => logger.warn({ runId: run.id, err: (e as Error).message }, 'job heartbeat failed'));
    }, this.#opts.heartbeatMs);
    heartbeat.unref();
    let outcome: TaskOutcome | undefined;
    if (approval) writer.write('JB06', 'Info', `The diff of ${approval.changes.length} changes was approved by ${approval.by}.`);
    logger.info({ jobId: run.job_id, runId: run.id, dryRun: run.dry_run }, 'job run started');
    try {
      if (!job || !task) throw new Error(job ? `unknown task '${job.task}'` : 'the job was deleted');
      outcome = await task.run({
        app: this.app,
        params: job.parameters,
        secrets: () => openSecrets(this.env.box, job.secrets_sealed),
        log: writer,
        dryRun: run.dry_run,
        now: new Date(),
        jobId: job.id,
        runId: run.id,
        ...(approval ? { approved: approval.changes } : {}),
      });
    } catch (e) {
      writer.write('JB01', 'Error', `The run stopped with an unexpected error: ${(e as Error).message}`);
      logger.error({ jobId: run.job_id, runId: run.id, err: (e as Error).message }, 'job run failed');
    } finally {
      clearInterval(heartbeat);
      this.#executing.delete(run.id);
    }
    try {
      await writer.flush();
    } catch (e) {
      logger.error({ runId: run.id, err: (e as Error).message }, 'could not write the job run log');
    }
    const status = !outcome || outcome.aborted ? 'Failed' : outcome.awaitingApproval ? 'AwaitingApproval' : completedStatus(writer.counts);
    const finished = await db
      .updateTable('job_runs')
      .set((eb) => ({
        status,
        finished_at: status === 'AwaitingApproval' ? null : sql<Date>`clock_timestamp()`,
        // Added to what the run logged before an approval, so the counts cover its whole log.
        error_count: eb('error_count', '+', writer.counts.error),
        warning_count: eb('warning_count', '+', writer.counts.warning),
        info_count: eb('info_count', '+', writer.counts.info),
        verbose_count: eb('verbose_count', '+', writer.counts.verbose),
        changed_count: outcome?.changes.length ?? 0,
        changes: JSON.stringify(outcome?.changes ?? []),
        message: outcome?.message ?? 'The run stopped with an unexpected error.',
      }))
      .where('id', '=', run.id)
      .where('status', '=', 'Running')
      .returningAll()
      .executeTakeFirst();
    logger.info({ jobId: run.job_id, runId: run.id, status }, 'job run ended');
    jobRuns.inc({ task: job?.task ?? 'deleted', status });
    if (status === 'Failed')
      await this.#mailFailure(run, job?.label ?? `job ${run.job_id}`, outcome?.message ?? 'The run stopped with an unexpected error.');
    // Undefined when the run was reaped meanwhile (this process stalled past its lease).
    return finished ?? (await db.selectFrom('job_runs').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow());
  }

  /** TENANTRY_JOB_FAILURE_MAIL_TO is told of every failed run (mail failures never fail the run). */
  async #mailFailure(run: RunRow, label: string, message: string): Promise<void> {
    for (const to of this.app.config.jobFailureMailTo) {
      await queueMail(this.app.db, {
        kind: 'job-failure',
        to,
        subject: `Tenantry job failed: ${label}`,
        text: `The run ${run.id} of job "${label}" (id ${run.job_id}) failed: ${message}\n\nRead its log with: tenantry jobs log ${run.id} --sort level`,
      }).catch((e: unknown) => this.app.logger.error({ runId: run.id, err: (e as Error).message }, 'could not queue the job failure mail'));
    }
  }

  #track(p: Promise<unknown>): void {
    const tracked = p
      .catch((e: unknown) => this.app.logger.error({ err: (e as Error).message }, 'job run crashed'))
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}
