import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../core/db/database.js';
import { openTestContext, type TestContext } from '../../test/support/test-db.js';
import { createJob, deleteJob, getJob, listJobs, previewSchedule, updateJob, type JobsEnv } from './job.service.js';
import { JobRunner } from './runner.js';
import { getRun, listRuns, logsToCsv, runLogs } from './run.service.js';
import { taskRegistry } from './tasks/registry.js';
import type { TaskDefinition, TaskRunInput } from './tasks/task.js';
import { text } from './parameters.js';
import { systemCaller } from '../tenancy/caller.js';
import { getBillingSettings, setBillingSettings } from '../billing/periods/bill-periods.js';

let t: TestContext;
let env: JobsEnv;
const seen: { secrets: Record<string, string>; params: Record<string, unknown> }[] = [];
let gate: Promise<void> = Promise.resolve();

/** A task that logs one entry per level and records what it was given. */
const probe: TaskDefinition = {
  id: 'billing-run',
  label: 'Billing Run',
  parameters: { Note: { default: 'none', check: text, description: 'test' } },
  secretNames: ['Token'],
  async run(input: TaskRunInput) {
    seen.push({ secrets: input.secrets(), params: input.params });
    await gate;
    input.log.write('T01', 'Verbose', 'verbose detail');
    input.log.write('T02', 'Info', '=SUM(A1) "quoted", comma');
    input.log.write('T03', 'Warning', 'a warning about ACME');
    input.log.write('T04', 'Error', 'an error about Contoso');
    return { aborted: false, changes: [], message: 'probe ran' };
  },
};

beforeAll(async () => {
  t = await openTestContext();
  env = { registry: taskRegistry([probe]), box: t.ctx.secrets };
});
afterAll(async () => {
  await t.close();
});

const create = (input: Parameters<typeof createJob>[3], now?: Date) => inTransaction(t.db, (tx) => createJob(tx, t.admin, env, input, now));
/** Changes the provider's billing time zone, as `tenantry billing settings --time-zone` does. */
const setProviderZone = (timeZone: string) =>
  inTransaction(t.db, async (tx) => setBillingSettings(tx, t.admin, { ...(await getBillingSettings(tx)), timeZone }));

describe('jobs', () => {
  it('computes the next run of the seed example in the provider time zone', async () => {
    await setProviderZone('Pacific/Auckland');
    const job = await create(
      { label: 'Transfer Billing Data to Autotask on 26th', task: 'Billing Run', cron: '0 22 26 * *' },
      new Date('2024-12-01T00:00:00Z'),
    ).finally(() => setProviderZone('UTC'));
    // 22:00 on 26 December in Auckland (NZDT, UTC+13) is 09:00 UTC.
    expect(job.nextRunAt?.toISOString()).toBe('2024-12-26T09:00:00.000Z');
    expect(job.timeZone).toBe('Pacific/Auckland');
    expect(previewSchedule('0 22 26 * *', 'UTC', 2, new Date('2024-12-27T00:00:00Z')).map((d) => d.toISOString())).toEqual([
      '2025-01-26T22:00:00.000Z',
      '2025-02-26T22:00:00.000Z',
    ]);
    // Atria's 6-field form with seconds first (atria-notes §4): last day of the month at 21:00.
    expect(previewSchedule('0 0 21 L * ?', 'UTC', 1, new Date('2024-02-01T00:00:00Z'))[0]!.toISOString()).toBe('2024-02-29T21:00:00.000Z');
    expect(job.parameters).toEqual({ Note: 'none' });
    expect(job.logLevel).toBe('Info');
    await inTransaction(t.db, (tx) => deleteJob(tx, t.admin, job.id));
  });

  it('follows a change of the provider time zone without a restart', async () => {
    const created = new Date('2030-03-01T00:00:00Z');
    const job = await create({ label: 'zone follower', task: 'billing-run', cron: '0 22 26 * *' }, created);
    expect([job.timeZone, job.nextRunAt?.toISOString()]).toEqual(['UTC', '2030-03-26T22:00:00.000Z']);
    // A scheduler started before the change: it reads the zone on each pass, not at start.
    const runner = new JobRunner(t.ctx, env);
    await setProviderZone('America/New_York');
    try {
      expect(await runner.followProviderZone(created)).toBeGreaterThanOrEqual(1);
      // 22:00 on 26 March 2030 in New York (EDT, UTC−4) is 02:00 UTC on the 27th.
      expect(await getJob(t.db, t.admin, env, job.id)).toMatchObject({
        timeZone: 'America/New_York',
        nextRunAt: new Date('2030-03-27T02:00:00Z'),
      });
      expect(await runner.followProviderZone(created)).toBe(0);
      // Firing computes the following occurrence in the provider's zone too.
      await runner.fireDueSchedules(new Date('2030-03-27T02:00:30Z'));
      expect((await listRuns(t.db, t.admin, job.id)).map((r) => [r.status, r.scheduledFor?.toISOString()])).toEqual([
        ['Queued', '2030-03-27T02:00:00.000Z'],
      ]);
      expect((await getJob(t.db, t.admin, env, job.id)).nextRunAt?.toISOString()).toBe('2030-04-27T02:00:00.000Z');
      // A job cannot be given a zone of its own: CRON is evaluated in the provider's (seed 003).
      await expect(create({ label: 'own zone', task: 'billing-run', cron: '* * * * *', timeZone: 'Europe/Paris' })).rejects.toThrow(
        /provider's time zone \(America\/New_York\)/,
      );
      expect((await create({ label: 'same zone', task: 'billing-run', cron: '0 0 1 1 *', timeZone: 'America/New_York' })).timeZone).toBe(
        'America/New_York',
      );
    } finally {
      await setProviderZone('UTC');
      await inTransaction(t.db, (tx) => deleteJob(tx, t.admin, job.id));
    }
  });

  it('refuses a bad CRON expression, task, parameter or secret name', async () => {
    await expect(create({ label: 'x', task: 'billing-run', cron: '0 22 26 *' })).rejects.toThrow(/Invalid CRON expression/);
    await expect(create({ label: 'x', task: 'nope', cron: '* * * * *' })).rejects.toThrow(/Unknown task 'nope'/);
    await expect(create({ label: 'x', task: 'billing-run', cron: '* * * * *', parameters: { Nope: 1 } })).rejects.toThrow(
      /Unknown parameter 'Nope'/,
    );
    await expect(create({ label: 'x', task: 'billing-run', cron: '* * * * *', parameters: { Note: 3 } })).rejects.toThrow(
      /must be a string/,
    );
    await expect(create({ label: 'x', task: 'billing-run', cron: '* * * * *', secrets: '{"Token": "s3cr3t-oops"' })).rejects.toThrow(
      'The secrets are not valid JSON.',
    );
    await expect(create({ label: 'x', task: 'billing-run', cron: '* * * * *', secrets: { Other: 'v' } })).rejects.toThrow(
      /Unknown secret 'Other'/,
    );
    await expect(create({ label: 'x', task: 'billing-run', cron: '* * * * *', timeZone: 'Mars/Olympus' })).rejects.toThrow(
      /Jobs run in the provider's time zone \(UTC\)/,
    );
  });

  it('keeps secrets write-only: encrypted at rest, never shown, replaced when re-entered', async () => {
    const job = await create({ label: 'secret job', task: 'billing-run', cron: '0 0 1 1 *', secrets: { token: 'first-SECRET-value' } });
    expect(JSON.stringify(job)).not.toContain('first-SECRET-value');
    expect(job.secretsSet).toEqual(['Token']);
    const runner = new JobRunner(t.ctx, env);
    await runner.runNow(t.admin, job.id);
    expect(seen.at(-1)!.secrets).toEqual({ Token: 'first-SECRET-value' });
    await inTransaction(t.db, (tx) => updateJob(tx, t.admin, env, job.id, { secrets: { Token: 'second-SECRET-value' } }));
    await runner.runNow(t.admin, job.id);
    expect(seen.at(-1)!.secrets).toEqual({ Token: 'second-SECRET-value' });
    const dump =
      JSON.stringify(await t.db.selectFrom('jobs').selectAll().execute()) +
      JSON.stringify(await t.db.selectFrom('job_run_logs').selectAll().execute()) +
      JSON.stringify(await t.db.selectFrom('job_runs').selectAll().execute());
    expect(dump).not.toMatch(/SECRET-value/);
    expect(JSON.stringify(await listJobs(t.db, t.admin, env))).not.toMatch(/SECRET-value/);
  });

  it('requires the Manage Jobs permission', async () => {
    const noJobs = { ...systemCaller(t.provider), permissions: new Set(['Console Access' as const]) };
    await expect(listJobs(t.db, noJobs, env)).rejects.toThrow(/Manage Jobs/);
  });

  it('keeps only entries at or above the job level, counts them all, and sorts, searches and exports them', async () => {
    const job = await create({ label: 'warn level', task: 'billing-run', cron: '0 0 1 1 *', logLevel: 'Warning' });
    const run = await new JobRunner(t.ctx, env).runNow(t.admin, job.id);
    expect(run.status).toBe('CompletedWithErrors');
    const detail = await getRun(t.db, t.admin, run.id);
    expect(detail.counts).toMatchObject({ errors: 1, warnings: 1, info: 1, verbose: 1 });
    expect((await runLogs(t.db, t.admin, run.id)).map((e) => e.code)).toEqual(['T03', 'T04']);
    expect((await runLogs(t.db, t.admin, run.id, { sort: 'level' })).map((e) => e.level)).toEqual(['Error', 'Warning']);
    expect((await runLogs(t.db, t.admin, run.id, { sort: 'code', order: 'desc' })).map((e) => e.code)).toEqual(['T04', 'T03']);
    expect((await runLogs(t.db, t.admin, run.id, { search: 'contoso' })).map((e) => e.code)).toEqual(['T04']);
    expect((await runLogs(t.db, t.admin, run.id, { search: 't03' })).map((e) => e.code)).toEqual(['T03']);

    const verbose = await create({ label: 'verbose level', task: 'billing-run', cron: '0 0 1 1 *', logLevel: 'Verbose' });
    const all = await runLogs(t.db, t.admin, (await new JobRunner(t.ctx, env).runNow(t.admin, verbose.id)).id);
    const csv = logsToCsv(all);
    expect(csv.split('\r\n')[0]).toBe('Time,Code,Level,Message');
    expect(csv).toContain(`,T02,Info,"'=SUM(A1) ""quoted"", comma"`);
  });

  it('never runs one job twice at once', async () => {
    const job = await create({ label: 'slow', task: 'billing-run', cron: '0 0 1 1 *' });
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const runner = new JobRunner(t.ctx, env);
    const first = runner.runNow(t.admin, job.id);
    await expect.poll(async () => (await listRuns(t.db, t.admin, job.id))[0]?.status).toBe('Running');
    await expect(runner.runNow(t.admin, job.id)).rejects.toThrow(/already running/);
    // A queued run waits while the job runs, then starts.
    const queued = await runner.enqueue(t.admin, job.id);
    await runner.tick();
    expect((await getRun(t.db, t.admin, queued.id)).status).toBe('Queued');
    release();
    gate = Promise.resolve();
    await first;
    await runner.tick();
    await runner.drain();
    expect((await getRun(t.db, t.admin, queued.id)).status).toBe('CompletedWithErrors');
  });

  it('fires a schedule once with two schedulers on one database, and reports missed occurrences', async () => {
    const created = new Date('2030-01-01T00:00:00Z');
    const job = await create({ label: 'every minute', task: 'billing-run', cron: '* * * * *' }, created);
    expect(job.nextRunAt?.toISOString()).toBe('2030-01-01T00:01:00.000Z');
    const a = new JobRunner(t.ctx, env, { owner: 'a', missedAfterMs: 120_000 });
    const b = new JobRunner(t.ctx, env, { owner: 'b', missedAfterMs: 120_000 });
    const at = new Date('2030-01-01T00:01:05Z');
    await Promise.all([a.fireDueSchedules(at), b.fireDueSchedules(at), a.fireDueSchedules(at)]);
    const runs = await listRuns(t.db, t.admin, job.id);
    expect(runs.map((r) => [r.status, r.scheduledFor?.toISOString()])).toEqual([['Queued', '2030-01-01T00:01:00.000Z']]);
    expect((await getJob(t.db, t.admin, env, job.id)).nextRunAt?.toISOString()).toBe('2030-01-01T00:02:00.000Z');
    // The server was down from 00:02 to 00:10: eight occurrences passed unseen.
    await a.fireDueSchedules(new Date('2030-01-01T00:10:30Z'));
    const after = await listRuns(t.db, t.admin, job.id, { limit: 100 });
    expect(after.filter((r) => r.status === 'Missed').map((r) => r.scheduledFor?.toISOString().slice(11, 16))).toEqual([
      '00:08',
      '00:07',
      '00:06',
      '00:05',
      '00:04',
      '00:03',
      '00:02',
    ]);
    const missedLog = await runLogs(t.db, t.admin, after.find((r) => r.status === 'Missed')!.id);
    expect(missedLog[0]).toMatchObject({ code: 'JB02', level: 'Warning' });
    // 00:09 and 00:10 are within two minutes: the latest is queued; the earlier queued run makes it Skipped.
    expect(after.filter((r) => r.status === 'Skipped').map((r) => r.scheduledFor?.toISOString().slice(11, 16))).toEqual(['00:10']);
    await inTransaction(t.db, (tx) => deleteJob(tx, t.admin, job.id));
  });

  it('marks a run whose process died as failed', async () => {
    const job = await create({ label: 'orphan', task: 'billing-run', cron: '0 0 1 1 *' });
    const stale = new Date(Date.now() - 10 * 60_000);
    const run = await t.db
      .insertInto('job_runs')
      .values({
        job_id: job.id,
        status: 'Running',
        trigger: 'manual',
        requested_by: 'x',
        started_at: stale,
        heartbeat_at: stale,
        owner: 'gone:1',
        changes: '[]',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await new JobRunner(t.ctx, env, { leaseMs: 60_000 }).tick();
    const after = await getRun(t.db, t.admin, run.id);
    expect(after.status).toBe('Failed');
    expect((await runLogs(t.db, t.admin, run.id))[0]).toMatchObject({ code: 'JB03', level: 'Error' });
  });

  it('deletes a job with its runs', async () => {
    const job = await create({ label: 'doomed', task: 'billing-run', cron: '0 0 1 1 *' });
    await new JobRunner(t.ctx, env).runNow(t.admin, job.id);
    await inTransaction(t.db, (tx) => deleteJob(tx, t.admin, job.id));
    await expect(getJob(t.db, t.admin, env, job.id)).rejects.toThrow(/not found/);
    expect(await t.db.selectFrom('job_runs').select('id').where('job_id', '=', job.id).execute()).toEqual([]);
  });
});
