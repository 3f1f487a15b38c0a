import type { Selectable } from 'kysely';
import type { Executor } from '../core/db/database.js';
import type { JobRunsTable, JobsTable } from './schema.js';

export type JobRow = Selectable<JobsTable>;
export type RunRow = Selectable<JobRunsTable>;

export function selectJob(db: Executor, id: number): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export function selectJobs(db: Executor): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().orderBy('id').execute();
}

/** The latest run of each job (for the "Last Run Result" column). */
export async function selectLastRuns(db: Executor, jobIds: number[]): Promise<Map<number, RunRow>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('job_runs')
    .selectAll()
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('job_runs')
        .select((e) => e.fn.max('id').as('id'))
        .where('job_id', 'in', jobIds)
        .groupBy('job_id'),
    )
    .execute();
  return new Map(rows.map((r) => [r.job_id, r]));
}

/** Enabled jobs whose next fire time has come. */
export function selectDueJobs(db: Executor, now: Date): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('enabled', '=', true).where('next_run_at', '<=', now).orderBy('next_run_at').execute();
}

/**
 * Compare-and-set of the next fire time: only the process whose update finds the value it read
 * wins the occurrence, however many schedulers share the database.
 */
export async function advanceNextRun(db: Executor, id: number, expected: Date, next: Date | null, timeZone: string): Promise<boolean> {
  const res = await db
    .updateTable('jobs')
    .set({ next_run_at: next, time_zone: timeZone })
    .where('id', '=', id)
    .where('next_run_at', '=', expected)
    .where('enabled', '=', true)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Jobs whose next fire time was computed in another zone than `timeZone` and is not yet due. */
export function selectJobsOutOfZone(db: Executor, timeZone: string, now: Date): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('time_zone', '<>', timeZone)
    .where((eb) => eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '>', now)]))
    .orderBy('id')
    .execute();
}

/** Moves a job to another zone with its recomputed next fire time; compare-and-set on what was read, as advanceNextRun. */
export async function moveJobToZone(db: Executor, job: JobRow, timeZone: string, next: Date | null): Promise<boolean> {
  const res = await db
    .updateTable('jobs')
    .set({ time_zone: timeZone, next_run_at: next })
    .where('id', '=', job.id)
    .where('time_zone', '=', job.time_zone)
    .where('enabled', '=', job.enabled)
    .where((eb) => (job.next_run_at === null ? eb('next_run_at', 'is', null) : eb('next_run_at', '=', job.next_run_at)))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
