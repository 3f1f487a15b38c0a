/** Run statuses shown in the run history. */
export const RUN_STATUSES = [
  'Queued',
  'Running',
  'Succeeded',
  'CompletedWithWarnings',
  'CompletedWithErrors',
  'Failed',
  'Missed',
  'Skipped',
  // RequireApproval (issue 11 §7): the diff is stored and waits for approve / reject.
  'AwaitingApproval',
  'Rejected',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type RunTrigger = 'schedule' | 'manual';

/** Statuses of a run that has ended. */
export const FINISHED: readonly RunStatus[] = [
  'Succeeded',
  'CompletedWithWarnings',
  'CompletedWithErrors',
  'Failed',
  'Missed',
  'Skipped',
  'Rejected',
];

/** The outcome of a run that reached its end: errors and warnings on individual records do not fail it (issue 7 §8). */
export function completedStatus(counts: { error: number; warning: number }): RunStatus {
  if (counts.error > 0) return 'CompletedWithErrors';
  if (counts.warning > 0) return 'CompletedWithWarnings';
  return 'Succeeded';
}
