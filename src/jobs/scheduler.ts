import type { AppContext } from '../core/context.js';
import { jobsEnv } from './env.js';
import { JobRunner, type RunnerOptions } from './runner.js';
import type { TaskRegistry } from './tasks/task.js';

export interface SchedulerOptions extends RunnerOptions {
  /** Pause between scheduler passes; a run queued with "Run Now" starts within one. */
  pollMs?: number;
  registry?: TaskRegistry;
}

/**
 * The job scheduler as a background service of `tenantry start` (and `tenantry jobs worker`):
 * every process may run one; the database decides which fires each occurrence.
 */
export async function startJobScheduler(
  ctx: AppContext,
  opts: SchedulerOptions = {},
): Promise<{ runner: JobRunner; stop(): Promise<void> }> {
  const env = await jobsEnv(ctx, opts.registry);
  // A run whose process stops renewing its lease for this long is marked Failed by another process.
  const leaseSeconds = jobsLeaseSeconds(process.env.TENANTRY_JOBS_LEASE_SECONDS);
  const lease = leaseSeconds ? { leaseMs: leaseSeconds * 1000, heartbeatMs: (leaseSeconds * 1000) / 6 } : {};
  const runner = new JobRunner(ctx, env, { ...lease, ...opts });
  const pollMs = opts.pollMs ?? (Number(process.env.TENANTRY_JOBS_POLL_MS) || 5_000);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const loop = (): void => {
    if (stopped) return;
    current = runner
      .tick()
      .catch((e: unknown) => ctx.logger.error({ err: (e as Error).message }, 'job scheduler pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();
  ctx.logger.info({ owner: runner.owner, pollMs }, 'job scheduler started');
  return {
    runner,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await runner.drain();
    },
  };
}

/** TENANTRY_JOBS_LEASE_SECONDS: a positive number of seconds, or unset for the runner's default. */
function jobsLeaseSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1)
    throw new Error(`TENANTRY_JOBS_LEASE_SECONDS must be a whole number of seconds, at least 1, got "${raw}"`);
  return Number(raw);
}
