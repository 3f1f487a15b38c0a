import type { AppContext } from '../core/context.js';
import { billingSummarySource } from '../integrations/psa/shared/billing-source.js';
import { systemCaller } from '../tenancy/caller.js';
import type { JobsEnv } from './job.service.js';
import { autotaskTask, type AutotaskTaskDeps } from './tasks/autotask.task.js';
import { billingRunTask } from './tasks/billing-run.task.js';
import { connectWiseTask, type ConnectWiseTaskDeps } from './tasks/connectwise.task.js';
import { taskRegistry } from './tasks/registry.js';
import type { TaskRegistry } from './tasks/task.js';

export interface TaskOverrides {
  autotask?: Partial<AutotaskTaskDeps>;
  connectwise?: Partial<ConnectWiseTaskDeps>;
}

/** The three tasks of the Task drop-down, reading quantities from the billing summary. */
export function defaultRegistry(overrides: TaskOverrides = {}): TaskRegistry {
  const source = (app: AppContext) => billingSummarySource(app.db, systemCaller(app.provider, 'psa sync'));
  return taskRegistry([
    autotaskTask({ source, ...overrides.autotask }),
    connectWiseTask({ source, ...overrides.connectwise }),
    billingRunTask(),
  ]);
}

/**
 * The jobs module's environment for a process: tasks and the secret box. The provider's time zone
 * is not part of it: it is read from the billing settings when needed, so a change applies at once.
 */
export async function jobsEnv(app: AppContext, registry: TaskRegistry = defaultRegistry()): Promise<JobsEnv> {
  return { registry, box: app.secrets, minIntervalSeconds: app.config.jobMinIntervalSeconds };
}
