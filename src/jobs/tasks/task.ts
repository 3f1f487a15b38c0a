import type { AppContext } from '../../core/context.js';
import type { SyncChange, SyncLogSink } from '../../integrations/psa/shared/sync-model.js';
import type { ParameterSchema } from '../parameters.js';

export const TASK_IDS = ['autotask-psa', 'connectwise-psa', 'billing-run'] as const;
export type TaskId = (typeof TASK_IDS)[number];

export interface TaskRunInput {
  app: AppContext;
  /** Parameters as saved (validated, defaults filled). */
  params: Record<string, unknown>;
  /** Decrypts the job's secrets on demand, so a task reports a bad key with its own code. */
  secrets: () => Record<string, string>;
  log: SyncLogSink;
  dryRun: boolean;
  now: Date;
  jobId: number;
  runId: number;
  /** Set when an operator approves a RequireApproval run: push exactly this diff, if it is still the diff (issue 11 §7). */
  approved?: SyncChange[];
}

export interface TaskOutcome {
  /** Ended early (bad parameters or secrets, a system unreachable): the run is Failed whatever was logged. */
  aborted: boolean;
  changes: SyncChange[];
  /** One line for the run history (for example the PSA call count). */
  message: string;
  /** The diff is stored and waits for `tenantry jobs approve` / the console (RequireApproval). */
  awaitingApproval?: boolean;
}

/** A job task (seed 003 "Task" drop-down). */
export interface TaskDefinition {
  id: TaskId;
  /** The seed's name in the Task drop-down. */
  label: string;
  parameters: ParameterSchema;
  /** Secret names the task reads (seed 003 / 004 "Secrets"). */
  secretNames: readonly string[];
  run(input: TaskRunInput): Promise<TaskOutcome>;
}

export type TaskRegistry = ReadonlyMap<TaskId, TaskDefinition>;
