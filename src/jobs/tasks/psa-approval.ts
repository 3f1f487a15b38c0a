import { BufferedLog, changeKey, sameDiff, type SyncLogSink, type SyncResult } from '../../integrations/psa/shared/sync-model.js';
import type { TaskOutcome, TaskRunInput } from './task.js';

/** One pass of a PSA sync: dry or writing, logging to `log`, writing only `approved` changes when given. */
export type SyncPass = (pass: { dryRun: boolean; log: SyncLogSink; approved?: ReadonlySet<string> }) => Promise<SyncResult>;

/**
 * A PSA task run with the RequireApproval parameter (issue 11 §7): the run computes the diff
 * without writing and stops AwaitingApproval. Approving runs it again: the diff is recomputed
 * first and, only when it is still the approved one (neither the PSA nor Tenantry's billing
 * changed), the sync writes exactly those changes; otherwise the new diff awaits approval.
 */
export async function runPsaTask(
  input: TaskRunInput,
  requireApproval: boolean,
  sync: SyncPass,
  summary: (r: SyncResult, verb: string) => string,
): Promise<TaskOutcome> {
  const outcome = (r: SyncResult, verb: string, awaitingApproval = false): TaskOutcome => ({
    aborted: r.aborted,
    changes: r.changes,
    message: summary(r, verb),
    ...(awaitingApproval ? { awaitingApproval } : {}),
  });
  if (input.dryRun) return outcome(await sync({ dryRun: true, log: input.log }), 'would change');
  if (input.approved === undefined) {
    if (!requireApproval) return outcome(await sync({ dryRun: false, log: input.log }), 'changed');
    const diff = await sync({ dryRun: true, log: input.log });
    return outcome(diff, diff.changes.length ? 'await approval to change' : 'changed', !diff.aborted && diff.changes.length > 0);
  }
  // The check's log matters only when the diff moved: the writing pass logs what it does.
  const checkLog = new BufferedLog();
  const check = await sync({ dryRun: true, log: checkLog });
  if (check.aborted || !sameDiff(check.changes, input.approved)) {
    checkLog.flushTo(input.log);
    if (check.aborted) return outcome(check, 'changed');
    input.log.write(
      'JB05',
      'Warning',
      'The PSA or the billing changed since the diff was approved; nothing was written. The new diff awaits approval.',
    );
    return outcome(check, 'await approval to change', check.changes.length > 0);
  }
  return outcome(await sync({ dryRun: false, log: input.log, approved: new Set(input.approved.map(changeKey)) }), 'changed');
}
