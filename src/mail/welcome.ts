import type { Executor } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { mailEnabled, queueMail } from './outbox.js';

/**
 * A new user's welcome mail with its sign-in name and password, queued in the creating
 * transaction (sealed in the outbox like every mail body). Asked for explicitly: a password
 * in a mailbox is a risk the operator chooses.
 */
export async function queueWelcomeMail(
  db: Executor,
  user: { name: string; upn: string; externalEmail: string | null; displayName: string | null },
  password: string,
  providerName: string,
): Promise<string> {
  if (!mailEnabled())
    throw new DomainError('ValidationError', 'A welcome mail needs a mail server: set TENANTRY_SMTP_URL and TENANTRY_MAIL_FROM.');
  const to = user.externalEmail?.trim() || user.upn;
  await queueMail(db, {
    kind: 'welcome',
    to,
    subject: `Your ${providerName} account`,
    text: [
      `Hello ${user.displayName ?? user.name},`,
      '',
      `An account was created for you at ${providerName}.`,
      '',
      `User name: ${user.upn}`,
      `Password: ${password}`,
      '',
      'Change the password when you first sign in.',
    ].join('\n'),
  });
  return to;
}
