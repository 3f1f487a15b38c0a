import nodemailer, { type Transporter } from 'nodemailer';
import type { AppContext } from '../core/context.js';
import type { SecretBox } from '../core/crypto.js';
import { inTransaction, type DB, type Executor } from '../core/db/database.js';
import type { Logger } from '../core/logger.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  kind: 'approval' | 'reminder' | 'welcome' | 'job-failure';
}

/** Set by the runtime when TENANTRY_SMTP_URL is configured; without it nothing is queued. */
let sealer: SecretBox | undefined;

export function useMailOutbox(box: SecretBox | undefined): void {
  sealer = box;
}

/** True when this process queues mail (SMTP configured). */
export function mailEnabled(): boolean {
  return sealer !== undefined;
}

/** Queues a mail in the caller's transaction: it is sent only if the change commits. */
export async function queueMail(db: Executor, mail: Mail): Promise<void> {
  if (!sealer) return;
  await db
    .insertInto('mail_outbox')
    .values({
      recipient: mail.to,
      subject: mail.subject,
      body_sealed: sealer.seal(mail.text),
      kind: mail.kind,
      next_attempt_at: new Date(),
    })
    .execute();
}

/** Where mail to a user goes: its external address, else its UPN (user@domain). */
export function mailAddressOf(user: { external_email: string | null; upn: string }): string {
  return user.external_email?.trim() || user.upn;
}

const MAX_ATTEMPTS = 6;
const BATCH = 20;

export interface MailSender {
  transport: Transporter;
  from: string;
  box: SecretBox;
  logger: Logger;
}

export function mailSenderOf(ctx: AppContext): MailSender | undefined {
  const { smtpUrl, mailFrom } = ctx.config;
  if (!smtpUrl || !mailFrom) return undefined;
  return { transport: nodemailer.createTransport(smtpUrl), from: mailFrom, box: ctx.secrets, logger: ctx.logger };
}

/**
 * Sends the mail that is due. Rows are locked with skip locked, so several processes share the
 * outbox without sending anything twice. A failed attempt is retried with a growing delay (1,
 * 2, 4 … minutes); after MAX_ATTEMPTS it is given up and stays in the outbox with its error.
 */
export async function deliverDueMail(db: DB, sender: MailSender, now = new Date()): Promise<{ sent: number; failed: number }> {
  return inTransaction(db, async (tx) => {
    const due = await tx
      .selectFrom('mail_outbox')
      .selectAll()
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    let sent = 0;
    let failed = 0;
    for (const m of due) {
      try {
        await sender.transport.sendMail({ from: sender.from, to: m.recipient, subject: m.subject, text: sender.box.open(m.body_sealed) });
        await tx
          .updateTable('mail_outbox')
          .set({ sent_at: new Date(), attempts: m.attempts + 1, last_error: null })
          .where('id', '=', m.id)
          .execute();
        sent++;
      } catch (e) {
        const attempts = m.attempts + 1;
        const error = (e as Error).message;
        const giveUp = attempts >= MAX_ATTEMPTS;
        sender.logger.warn(
          { mailId: m.id, kind: m.kind, attempts, err: error },
          giveUp ? 'mail not delivered; giving up' : 'mail not delivered; will retry',
        );
        await tx
          .updateTable('mail_outbox')
          .set({
            attempts,
            last_error: error,
            next_attempt_at: new Date(now.getTime() + 60_000 * 2 ** (attempts - 1)),
            ...(giveUp ? { failed_at: new Date() } : {}),
          })
          .where('id', '=', m.id)
          .execute();
        failed++;
      }
    }
    return { sent, failed };
  });
}

/** Background service: delivers the outbox every few seconds while the process runs. */
export async function startMailSender(ctx: AppContext, intervalMs = 5_000): Promise<{ stop(): Promise<void> }> {
  const sender = mailSenderOf(ctx);
  if (!sender) return { stop: async () => undefined };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(() => deliverDueMail(ctx.db, sender))
      .catch((e: unknown) => ctx.logger.error({ err: (e as Error).message }, 'mail delivery failed'));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      sender.transport.close();
    },
  };
}
