import { inTransaction, type DB, type Tx } from '../core/db/database.js';
import { appendLog } from '../provisioning/engine.queries.js';
import { mailAddressOf, queueMail } from '../mail/outbox.js';
import { approvalText } from './approval-gate.js';
import { settleRequest } from './approval-response.service.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Approvals read and decided per transaction. */
const BATCH = 100;

export interface ExpiryOutcome {
  timedOut: number;
  reminded: number;
}

interface PendingApproval {
  id: number;
  customer_id: number;
  parent_id: number | null;
  provisioning_request_id: number;
  provider_id: number;
  group_id: number | null;
  description: string;
  requested_at: Date;
  reminded_at: Date | null;
  group_configuration: Record<string, string> | null;
}

/**
 * Sweeps pending approvals against their provider's `timeoutdays` and `reminderdays` (seed 002,
 * "Set Workflow Managers" / "Set Workflow Groups"; 0 or unset = never).
 *
 * Timeout: the seed names the setting but not its outcome; an unanswered approval must not grant
 * a change nobody approved, so it is rejected: its unanswered responses become Rejected with a
 * "timed out" reason and the held provisioning request fails exactly as on a rejection.
 * Reminder: a log line on the held provisioning request, and a mail to each waiting approver when
 * a mail server is configured (TENANTRY_SMTP_URL); the log line is visible in the CortexAPI
 * `<request><log/>`. Both at most once per interval.
 */
export async function expireApprovals(db: DB, now: Date): Promise<ExpiryOutcome> {
  const outcome: ExpiryOutcome = { timedOut: 0, reminded: 0 };
  // Paged by id so approvals that are not due yet never hide later ones that are.
  for (let after = 0; ;) {
    const page = await inTransaction(db, async (tx) => {
      const pending = await selectPending(tx, after);
      for (const approval of pending) {
        const { timeoutDays, reminderDays } = await scheduleOf(tx, approval);
        if (timeoutDays > 0 && now.getTime() >= approval.requested_at.getTime() + timeoutDays * DAY_MS) {
          await timeOut(tx, approval, timeoutDays, now);
          outcome.timedOut++;
        } else if (reminderDays > 0 && now.getTime() >= (approval.reminded_at ?? approval.requested_at).getTime() + reminderDays * DAY_MS) {
          await remind(tx, approval, now);
          outcome.reminded++;
        }
      }
      return pending;
    });
    if (page.length < BATCH) return outcome;
    after = page[page.length - 1]!.id;
  }
}

function selectPending(tx: Tx, after: number): Promise<PendingApproval[]> {
  // skip locked: several engine processes sweep at once without timing out or reminding twice.
  return tx
    .selectFrom('approval_requests')
    .innerJoin('customers', 'customers.id', 'approval_requests.customer_id')
    .leftJoin('approval_groups', 'approval_groups.id', 'approval_requests.group_id')
    .select([
      'approval_requests.id',
      'approval_requests.customer_id',
      'customers.parent_id',
      'approval_requests.provisioning_request_id',
      'approval_requests.provider_id',
      'approval_requests.group_id',
      'approval_requests.description',
      'approval_requests.requested_at',
      'approval_requests.reminded_at',
      'approval_groups.configuration as group_configuration',
    ])
    .where('approval_requests.status', '=', 'Pending')
    .where('approval_requests.id', '>', after)
    .orderBy('approval_requests.id')
    .limit(BATCH)
    .forUpdate('approval_requests')
    .skipLocked()
    .execute();
}

/**
 * A Workflow Groups approval follows its group's configuration; a Workflow Managers one the
 * provider settings of its customer, or of the parent (a new customer is approved under its
 * parent's subscriptions).
 */
async function scheduleOf(tx: Tx, a: PendingApproval): Promise<{ timeoutDays: number; reminderDays: number }> {
  let configuration = a.group_configuration;
  if (a.group_id === null) {
    const owners = a.parent_id === null ? [a.customer_id] : [a.customer_id, a.parent_id];
    const settings = await tx
      .selectFrom('approval_provider_settings')
      .select(['customer_id', 'configuration'])
      .where('provider_id', '=', a.provider_id)
      .where('customer_id', 'in', owners)
      .execute();
    configuration = (settings.find((s) => s.customer_id === a.customer_id) ?? settings[0])?.configuration ?? null;
  }
  return { timeoutDays: days(configuration?.timeoutdays), reminderDays: days(configuration?.reminderdays) };
}

function days(value: string | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

async function timeOut(tx: Tx, a: PendingApproval, timeoutDays: number, now: Date): Promise<void> {
  const reason = `Timed out: not answered within ${timeoutDays} day${timeoutDays === 1 ? '' : 's'}.`;
  await tx
    .updateTable('approval_responses')
    .set({ status: 'Rejected', reason, resolved_at: now })
    .where('approval_request_id', '=', a.id)
    .where('status', '=', 'Pending')
    .execute();
  await tx.updateTable('approval_requests').set({ status: 'Rejected', resolved_at: now }).where('id', '=', a.id).execute();
  await appendLog(tx, a.provisioning_request_id, [
    {
      at: now,
      level: 'warning',
      message: `Approval '${a.description}' ${reason[0]!.toLowerCase()}${reason.slice(1)} The request is rejected.`,
    },
  ]);
  await settleRequest(
    tx,
    a.provisioning_request_id,
    now,
    `Approval '${a.description}' timed out after ${timeoutDays} day${timeoutDays === 1 ? '' : 's'}.`,
  );
}

async function remind(tx: Tx, a: PendingApproval, now: Date): Promise<void> {
  const waiting = await tx
    .selectFrom('approval_responses')
    .innerJoin('users', 'users.id', 'approval_responses.user_id')
    .select(['users.name', 'users.upn', 'users.external_email', 'approval_responses.id as responseId'])
    .where('approval_responses.approval_request_id', '=', a.id)
    .where('approval_responses.status', '=', 'Pending')
    .orderBy((eb) => eb.fn('lower', ['users.name']))
    .execute();
  await appendLog(tx, a.provisioning_request_id, [
    {
      at: now,
      level: 'info',
      message: `Reminder: approval '${a.description}' is still waiting for ${waiting.map((w) => w.name).join(', ')}.`,
    },
  ]);
  for (const w of waiting) {
    await queueMail(tx, {
      kind: 'reminder',
      to: mailAddressOf(w),
      subject: `Reminder: approval needed: ${a.description}`,
      text: approvalText(w.name, a.description, a.provisioning_request_id, w.responseId, true),
    });
  }
  await tx.updateTable('approval_requests').set({ reminded_at: now }).where('id', '=', a.id).execute();
}
