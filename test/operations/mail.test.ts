import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser } from '../../src/tenancy/user.service.js';
import { createJob } from '../../src/jobs/job.service.js';
import { defaultRegistry } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { expireApprovals } from '../../src/approvals/expire-approvals.js';
import { deliverDueMail, mailSenderOf, useMailOutbox, type MailSender } from '../../src/mail/outbox.js';
import { queueWelcomeMail } from '../../src/mail/welcome.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { startCortex, request, errorOf, requestIdOf, type CortexClient } from '../cortex/support.js';

/** A real SMTP server (smtp-server) with authentication; every message it accepts, parsed. */
const received: { envelopeTo: string[]; mail: ParsedMail }[] = [];
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  onAuth: (auth, _session, cb) =>
    auth.username === 'mailer' && auth.password === 'smtp-Passw0rd'
      ? cb(null, { user: 'mailer' })
      : cb(new Error('Invalid username or password')),
  onData: (stream, session, cb) => {
    simpleParser(stream)
      .then((mail) => received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail }))
      .then(() => cb(), cb);
  },
});

let t: TestContext;
let tree: ResellerTree;
let api: CortexClient;
let sender: MailSender;

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  t = await openTestContext({
    smtpUrl: `smtp://mailer:smtp-Passw0rd@127.0.0.1:${port}`,
    mailFrom: 'Tenantry <tenantry@sp.example>',
    jobFailureMailTo: ['ops@sp.example'],
  });
  // What openRuntime does when TENANTRY_SMTP_URL is set.
  useMailOutbox(t.ctx.secrets);
  sender = mailSenderOf(t.ctx)!;
  tree = await makeResellerTree(t.db, t.admin);
  api = await startCortex(t);
});
afterAll(async () => {
  useMailOutbox(undefined);
  sender.transport.close();
  await api.close();
  await t.close();
  await new Promise<void>((resolve) => smtp.close(resolve));
});
beforeEach(() => {
  received.length = 0;
});

async function deliver(now = new Date()) {
  return deliverDueMail(t.db, sender, now);
}

describe('mail through an SMTP server', () => {
  it('a job run that fails mails TENANTRY_JOB_FAILURE_MAIL_TO once', async () => {
    const env = { registry: defaultRegistry(), box: t.ctx.secrets };
    const job = await inTransaction(t.db, (tx) =>
      createJob(tx, t.admin, env, {
        label: 'Billing of a lost period',
        task: 'billing-run',
        cron: '0 3 * * *',
        parameters: { BillingPeriod: '1999-01-31' },
      }),
    );
    const run = await new JobRunner(t.ctx, env).runNow(t.admin, job.id);
    expect(run.status).toBe('Failed');
    expect(await deliver()).toEqual({ sent: 1, failed: 0 });
    expect(received).toHaveLength(1);
    const [{ envelopeTo, mail }] = received;
    expect(envelopeTo).toEqual(['ops@sp.example']);
    expect(mail.from?.value).toEqual([{ name: 'Tenantry', address: 'tenantry@sp.example' }]);
    expect(mail.subject).toBe('Tenantry job failed: Billing of a lost period');
    expect(mail.text).toContain(`The run ${run.id} of job "Billing of a lost period" (id ${job.id}) failed: ${run.message}`);
    expect(await deliver()).toEqual({ sent: 0, failed: 0 });
  });

  it('a welcome mail carries the password, which the outbox keeps sealed', async () => {
    const { user, generatedPassword } = await inTransaction(t.db, async (tx) => {
      const created = await createUser(tx, tree.customerA.admin, tree.customerA.customer, {
        name: 'Newcomer',
        displayName: 'New Comer',
        externalEmail: 'newcomer@home.example',
      });
      await queueWelcomeMail(tx, created.user, created.generatedPassword!, t.provider.fullname);
      return created;
    });
    const stored = await t.db.selectFrom('mail_outbox').select('body_sealed').where('kind', '=', 'welcome').executeTakeFirstOrThrow();
    expect(stored.body_sealed).not.toContain(generatedPassword!);
    await deliver();
    expect(received.map((r) => r.envelopeTo)).toEqual([['newcomer@home.example']]);
    expect(received[0]!.mail.subject).toBe(`Your ${t.provider.fullname} account`);
    expect(received[0]!.mail.text).toContain(`User name: ${user.upn}\nPassword: ${generatedPassword}\n`);
  });

  it('a mail the server refuses is retried later, then delivered', async () => {
    await inTransaction(t.db, async (tx) => {
      const created = await createUser(tx, tree.customerA.admin, tree.customerA.customer, {
        name: 'Retry1',
        externalEmail: 'retry@home.example',
      });
      await queueWelcomeMail(tx, created.user, created.generatedPassword!, t.provider.fullname);
    });
    const refusing = {
      ...sender,
      transport: mailSenderOf({ ...t.ctx, config: { ...t.ctx.config, smtpUrl: t.ctx.config.smtpUrl!.replace('smtp-Passw0rd', 'wrong') } })!
        .transport,
    };
    const now = new Date();
    expect(await deliverDueMail(t.db, refusing, now)).toEqual({ sent: 0, failed: 1 });
    refusing.transport.close();
    const row = await t.db
      .selectFrom('mail_outbox')
      .select(['attempts', 'last_error', 'next_attempt_at'])
      .where('recipient', '=', 'retry@home.example')
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/Invalid username or password/);
    // Not due again at once; due a minute later.
    expect(await deliver(now)).toEqual({ sent: 0, failed: 0 });
    expect(await deliver(new Date(now.getTime() + 61_000))).toEqual({ sent: 1, failed: 0 });
    expect(received.map((r) => r.envelopeTo)).toEqual([['retry@home.example']]);
  });

  it('asks each approver by mail with its own response id, and reminds the ones still waiting', async () => {
    const code = tree.direct.customer.name;
    await inTransaction(t.db, async (tx) => {
      await createUser(tx, tree.direct.admin, tree.direct.customer, {
        name: 'jocelynb',
        displayName: 'Jocelyn Brittain',
        externalEmail: 'jocelyn@direct.example',
        roles: ['User'],
      });
      await createUser(tx, tree.direct.admin, tree.direct.customer, { name: 'RogerA', displayName: 'Roger Alborough', roles: ['User'] });
    });
    await t.db.updateTable('users').set({ status: 'Provisioned' }).where('customer_id', '=', tree.direct.customer.id).execute();
    const groups = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><approvalproviders><approvalprovider><name>Workflow Groups</name><groups>
      <group><name>Service Approval</name><configuration><memberstoapprove>1</memberstoapprove><timeoutdays>5</timeoutdays><reminderdays>2</reminderdays></configuration>
        <members><member><username>jocelynb_${code}</username></member><member><username>RogerA_${code}</username></member></members>
        <subscriptions><services><service><label>All</label><subscription><name>Provision</name><access>Object</access></subscription></service></services></subscriptions>
      </group></groups></approvalprovider></approvalproviders></customer>`,
      ),
    );
    expect(errorOf(groups)).toBeUndefined();
    await deliver();
    received.length = 0;

    const set = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>FSS</name><properties><property><name>FileShareServer</name><value>F1</value></property></properties></service></customer>`,
      ),
    );
    const requestId = requestIdOf(set);
    await deliver();
    const responses = await t.db
      .selectFrom('approval_responses')
      .innerJoin('approval_requests', 'approval_requests.id', 'approval_responses.approval_request_id')
      .innerJoin('users', 'users.id', 'approval_responses.user_id')
      .select(['approval_responses.id', 'users.name', 'users.upn'])
      .where('approval_requests.provisioning_request_id', '=', requestId)
      .execute();
    const byRecipient = Object.fromEntries(received.map((r) => [r.envelopeTo[0], r.mail]));
    const roger = responses.find((r) => r.name.startsWith('RogerA'))!;
    const jocelyn = responses.find((r) => r.name.startsWith('jocelynb'))!;
    // Jocelyn has her own address; Roger gets it at his UPN.
    expect(Object.keys(byRecipient).sort()).toEqual(['jocelyn@direct.example', roger.upn].sort());
    expect(byRecipient['jocelyn@direct.example']!.subject).toBe('Approval needed: Provision Customer Service - File Sharing');
    expect(byRecipient['jocelyn@direct.example']!.text).toContain(`approval response ${jocelyn.id} (Approve or Reject)`);
    expect(byRecipient[roger.upn]!.text).toContain(`approval response ${roger.id}`);
    expect(byRecipient[roger.upn]!.text).toContain(`(provisioning request ${requestId})`);

    received.length = 0;
    const requested = await t.db
      .selectFrom('approval_requests')
      .select('requested_at')
      .where('provisioning_request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    await expireApprovals(t.db, new Date(requested.requested_at.getTime() + 2.1 * 86_400_000));
    await deliver(new Date(requested.requested_at.getTime() + 2.2 * 86_400_000));
    expect(received.map((r) => r.mail.subject)).toEqual([
      'Reminder: approval needed: Provision Customer Service - File Sharing',
      'Reminder: approval needed: Provision Customer Service - File Sharing',
    ]);
    expect(received.every((r) => r.mail.text!.includes('Reminder: this change is still waiting for your approval'))).toBe(true);
  });
});

describe('without a mail server', () => {
  it('queues nothing: reminders stay log lines, as before', async () => {
    useMailOutbox(undefined);
    try {
      const before = await t.db
        .selectFrom('mail_outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      const env = { registry: defaultRegistry(), box: t.ctx.secrets };
      const job = await inTransaction(t.db, (tx) =>
        createJob(tx, t.admin, env, {
          label: 'No mail',
          task: 'billing-run',
          cron: '0 3 * * *',
          parameters: { BillingPeriod: '1999-01-31' },
        }),
      );
      expect(
        (await new JobRunner({ ...t.ctx, config: { ...t.ctx.config, jobFailureMailTo: [] } }, env).runNow(t.admin, job.id)).status,
      ).toBe('Failed');
      const welcome = await inTransaction(t.db, async (tx) => {
        const created = await createUser(tx, tree.customerB.admin, tree.customerB.customer, { name: 'NoMail' });
        return queueWelcomeMail(tx, created.user, created.generatedPassword!, 'SP').catch((e: Error) => e.message);
      });
      expect(welcome).toBe('A welcome mail needs a mail server: set TENANTRY_SMTP_URL and TENANTRY_MAIL_FROM.');
      const after = await t.db
        .selectFrom('mail_outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(after.n).toBe(before.n);
    } finally {
      useMailOutbox(t.ctx.secrets);
    }
  });

  it('refuses incomplete or malformed mail settings with one clear line', () => {
    expect(() => loadConfig({ TENANTRY_SMTP_URL: 'mail.example.net:25' })).toThrow(
      new ConfigError('TENANTRY_SMTP_URL must look like smtp://user:password@mail.example.net:587 or smtps://…:465'),
    );
    expect(() => loadConfig({ TENANTRY_SMTP_URL: 'smtp://mail.example.net' })).toThrow(
      new ConfigError('TENANTRY_MAIL_FROM is required with TENANTRY_SMTP_URL, e.g. "Tenantry <tenantry@example.net>"'),
    );
    expect(() => loadConfig({ TENANTRY_SMTP_URL: 'smtp://mail.example.net', TENANTRY_MAIL_FROM: 'Tenantry' })).toThrow(ConfigError);
    expect(() => loadConfig({ TENANTRY_JOB_FAILURE_MAIL_TO: 'ops@sp.example' })).toThrow(
      new ConfigError('TENANTRY_JOB_FAILURE_MAIL_TO needs TENANTRY_SMTP_URL to send mail'),
    );
    expect(
      loadConfig({
        TENANTRY_SMTP_URL: 'smtps://u:p@mail.example.net:465',
        TENANTRY_MAIL_FROM: 'Tenantry <t@sp.example>',
        TENANTRY_JOB_FAILURE_MAIL_TO: 'a@sp.example, b@sp.example',
      }),
    ).toMatchObject({
      smtpUrl: 'smtps://u:p@mail.example.net:465',
      mailFrom: 'Tenantry <t@sp.example>',
      jobFailureMailTo: ['a@sp.example', 'b@sp.example'],
    });
  });
});
