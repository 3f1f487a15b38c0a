import { inTransaction, type DB } from '../core/db/database.js';
import type { SecretBox } from '../core/crypto.js';
import { recordInstallFactOnce, writeInstallFact } from '../core/install/install-state.js';
import { systemCaller } from '../tenancy/caller.js';
import { createJob, type Job } from './job.service.js';
import { taskRegistry } from './tasks/registry.js';
import { billingRunTask } from './tasks/billing-run.task.js';

/**
 * Atria bills daily without set-up, so a new install gets a "Daily Billing Run" job. 03:15 is
 * after midnight (yesterday is complete) and outside the hours DST transitions skip or repeat
 * in Europe and the Americas, so it fires exactly once a night in the provider's zone.
 */
export const DAILY_BILLING_RUN = { label: 'Daily Billing Run', cron: '15 3 * * *' } as const;

/**
 * Creates the default jobs the first time any process starts on this database, and never
 * again: the fact that it happened is recorded, so an operator who deletes the job keeps it
 * deleted. A database that already has a billing-run job (an upgrade) gets no second one.
 */
export async function ensureDefaultJobs(db: DB, provider: { id: number; path: string }, box: SecretBox): Promise<Job | undefined> {
  return inTransaction(db, async (tx) => {
    // The insert is the claim: a second process starting at once waits on it, then skips.
    if (!(await recordInstallFactOnce(tx, 'default_job.daily_billing_run', 'pending'))) return undefined;
    const existing = await tx.selectFrom('jobs').select('id').where('task', '=', 'billing-run').orderBy('id').executeTakeFirst();
    if (existing) {
      await writeInstallFact(tx, 'default_job.daily_billing_run', `existing job ${existing.id}`);
      return undefined;
    }
    const env = { registry: taskRegistry([billingRunTask()]), box };
    const job = await createJob(tx, systemCaller(provider, 'bootstrap'), env, {
      label: DAILY_BILLING_RUN.label,
      task: 'billing-run',
      cron: DAILY_BILLING_RUN.cron,
    });
    await writeInstallFact(tx, 'default_job.daily_billing_run', `created job ${job.id}`);
    return job;
  });
}
