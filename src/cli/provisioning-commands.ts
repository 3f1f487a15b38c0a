import { createLogger } from '../core/logger.js';
import { exitOnUnhandledErrors, relaunchWithHeapLimit } from '../core/process-safety.js';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import { inTransaction } from '../core/db/database.js';
import { parseStatus } from '../core/statuses.js';
import { getCustomer } from '../tenancy/customer.service.js';
import { setServiceDriver, serviceDrivers } from '../provisioning/driver-config.js';
import { startProvisioningEngine } from '../provisioning/engine.js';
import { startJobScheduler } from '../jobs/scheduler.js';
import { retryRequest } from '../provisioning/request-admin.js';
import { childRequests, findRequests, requestItem, type RequestListItem } from '../provisioning/request-list.js';
import { viewRequest } from '../provisioning/request-view.js';
import { startMailSender } from '../mail/outbox.js';
import { printAs, printDetail, printTable, withRuntime } from './context.js';

const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
};

export function registerProvisioningCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'run provisioning workers and the job scheduler in this process against the PostgreSQL server in DATABASE_URL (Ctrl-C stops)',
    )
    .option('--concurrency <n>', 'requests run at once', positiveInt)
    .option('--no-jobs', 'run provisioning only, not the job scheduler')
    .action(async (opts: { concurrency?: number; jobs: boolean }) => {
      await runWorker(opts.concurrency, opts.jobs);
    });

  const requests = program.command('requests').description('provisioning requests: list, show (with log and times), retry');
  requests
    .command('list')
    .description('newest top-level requests first')
    .option('--status <status>', 'only this status (Requested, InProgress, Provisioned, Failed, Pending, NotProvisioned)')
    .option('--customer <name>', 'only this customer')
    .option('--all', 'include child requests')
    .option('--limit <n>', 'how many (default 50)', positiveInt)
    .option('--json', 'print JSON')
    .action(async (opts: { status?: string; customer?: string; all?: boolean; limit?: number; json?: boolean }) => {
      const status = opts.status === undefined ? undefined : parseStatus(opts.status);
      if (opts.status !== undefined && !status) throw new InvalidArgumentError(`unknown status "${opts.status}"`);
      await withRuntime(async (ctx, caller) => {
        const customerId = opts.customer ? (await getCustomer(ctx.db, caller, { name: opts.customer })).id : undefined;
        const { items } = await findRequests(ctx.db, caller, { status, customerId, topLevel: !opts.all, pageSize: opts.limit ?? 50 });
        printAs(items, opts.json, (rows) =>
          printTable(rows.map(requestRow), [
            'id',
            'parent',
            'customer',
            'entity',
            'action',
            'status',
            'attempts',
            'requestedBy',
            'created',
            'finished',
            'error',
          ]),
        );
      });
    });
  requests
    .command('show <id>')
    .description('a request with its log, processing times and children')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const view = await viewRequest(ctx.db, caller, positiveInt(id), { log: true, times: true });
        const request = (await requestItem(ctx.db, caller, view.request.id))!;
        const shown = {
          request,
          log: (view.log ?? []).map((l) => ({ at: l.at, level: l.level, message: l.message })),
          times: (view.times ?? []).map((t) => ({ step: t.step, startedAt: t.started_at, ms: t.duration_ms })),
          children: await childRequests(ctx.db, caller, request.id),
        };
        printAs(shown, opts.json, (s) => {
          const r = s.request;
          printDetail({
            request: r.id,
            action: `${r.action} ${entityText(r)}`,
            customer: `${r.customer.name} (id ${r.customer.id})`,
            status: r.status,
            error: r.error,
            parent: r.parentId,
            attempts: r.attempts,
            requestedBy: r.requestedBy,
            created: r.createdAt,
            started: r.startedAt,
            finished: r.finishedAt,
          });
          console.log('\nlog:');
          printTable(s.log, ['at', 'level', 'message']);
          console.log('\ntimes:');
          printTable(s.times, ['step', 'startedAt', 'ms']);
          if (s.children.length) {
            console.log('\nchildren:');
            printTable(s.children.map(requestRow), ['id', 'entity', 'action', 'status', 'attempts', 'error']);
          }
        });
      });
    });
  requests
    .command('retry <id>')
    .description('run the failed requests of a request tree again')
    .action(async (id: string) => {
      await withRuntime(async (ctx, caller) => {
        const ids = await inTransaction(ctx.db, (tx) => retryRequest(tx, caller, positiveInt(id)));
        console.log(`queued again: ${ids.join(', ')}`);
      });
    });

  registerServiceDriverCommands(program);
}

interface DriverOptions {
  url?: string;
  bindDn?: string;
  baseDn?: string;
  bindPasswordStdin?: boolean;
  secretStdin?: boolean;
  usersAttribute?: string;
  timeoutMs?: number;
  delayMs?: number;
  failureRate?: string;
  seed?: number;
  config?: string;
}

/** What a request changes, by name with its id: "user User1_BAC (7)". */
function entityText(r: RequestListItem): string {
  return `${r.entity} ${r.entityName ?? '?'} (${r.entityId})`;
}

function requestRow(r: RequestListItem): Record<string, unknown> {
  return {
    id: r.id,
    parent: r.parentId,
    customer: r.customer.name,
    entity: entityText(r),
    action: r.action,
    status: r.status,
    attempts: r.attempts,
    requestedBy: r.requestedBy,
    created: r.createdAt,
    finished: r.finishedAt,
    error: r.error,
  };
}

function registerServiceDriverCommands(program: Command): void {
  const services =
    program.commands.find((c) => c.name() === 'services') ??
    program.command('services').description('catalog services: provisioning drivers');
  services
    .command('drivers')
    .description('which driver provisions each service (secrets are never shown)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (ctx) => {
        printAs(await serviceDrivers(ctx.db), opts.json, (rows) =>
          printTable(
            rows.map((r) => ({ ...r, config: JSON.stringify(r.config) })),
            ['service', 'driver', 'config'],
          ),
        );
      });
    });
  services
    .command('set-driver <service> <driver>')
    .description('point a service at a driver: simulated, ldap or webhook (secrets are read from stdin and stored encrypted)')
    .option('--url <url>', 'ldap:// or ldaps:// server (ldap), endpoint (webhook)')
    .option('--bind-dn <dn>', 'ldap: DN to bind as')
    .option('--base-dn <dn>', 'ldap: where customer OUs are created')
    .option('--bind-password-stdin', 'ldap: read the bind password from stdin')
    .option('--secret-stdin', 'webhook: read the HMAC secret from stdin')
    .option('--users-attribute <attr>', 'ldap: uid (default) or cn')
    .option('--timeout-ms <ms>', 'ldap/webhook: timeout', positiveInt)
    .option('--delay-ms <ms>', 'simulated: delay per task', (v) => (v === '0' ? 0 : positiveInt(v)))
    .option('--failure-rate <0..1>', 'simulated: share of tasks that fail')
    .option('--seed <n>', 'simulated: PRNG seed', positiveInt)
    .option('--config <json>', 'any further driver_config keys as a JSON object')
    .action(async (service: string, driver: string, opts: DriverOptions) => {
      const config = { ...parseJsonObject(opts.config), ...(await driverConfigFrom(driver, opts)) };
      await withRuntime(async (ctx, caller) => {
        const result = await inTransaction(ctx.db, (tx) => setServiceDriver(tx, caller, ctx.secrets, { name: service }, driver, config));
        console.log(`${result.service}: driver ${result.driver} ${JSON.stringify(result.config)}`);
      });
    });
}

async function driverConfigFrom(driver: string, o: DriverOptions): Promise<Record<string, unknown>> {
  const defined = (entries: Record<string, unknown>) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
  if (driver === 'ldap') {
    return defined({
      url: o.url,
      bindDN: o.bindDn,
      baseDN: o.baseDn,
      usersAttribute: o.usersAttribute,
      timeoutMs: o.timeoutMs,
      bindPassword: o.bindPasswordStdin ? await readStdin() : undefined,
    });
  }
  if (driver === 'webhook') return defined({ url: o.url, timeoutMs: o.timeoutMs, secret: o.secretStdin ? await readStdin() : undefined });
  return defined({ delayMs: o.delayMs, failureRate: o.failureRate === undefined ? undefined : Number(o.failureRate), seed: o.seed });
}

function parseJsonObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('--config must be a JSON object');
  return value as Record<string, unknown>;
}

/** Secrets come from stdin so they never appear in the process list or shell history. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new InvalidArgumentError('expected the secret on stdin');
  return text;
}

async function runWorker(concurrency: number | undefined, withJobs: boolean): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    throw new Error(
      'tenantry worker needs a PostgreSQL server (set DATABASE_URL): the embedded database serves one process, ' +
        'and `tenantry start` already runs the workers in-process',
    );
  }
  if (await relaunchWithHeapLimit(config.maxHeapMb, createLogger(config.logLevel))) return;
  const { ctx } = await openRuntime(config);
  exitOnUnhandledErrors(ctx.logger);
  const engine = await startProvisioningEngine(ctx, concurrency ? { concurrency } : {});
  const scheduler = withJobs ? await startJobScheduler(ctx) : undefined;
  const mail = await startMailSender(ctx);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  ctx.logger.info('worker stopping');
  await scheduler?.stop();
  await mail.stop();
  await engine.stop();
  await ctx.database.close();
}
