import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import { inTransaction } from '../core/db/database.js';
import { parseStatus } from '../core/statuses.js';
import { getCustomer } from '../tenancy/customer.service.js';
import { setServiceDriver, serviceDrivers } from '../provisioning/driver-config.js';
import { startProvisioningEngine } from '../provisioning/engine.js';
import { startJobScheduler } from '../jobs/scheduler.js';
import { listRequests, retryRequest } from '../provisioning/request-admin.js';
import { viewChildRequests, viewRequest } from '../provisioning/request-view.js';
import { printTable, withRuntime } from './context.js';

const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
};

export function registerProvisioningCommands(program: Command): void {
  program
    .command('worker')
    .description('run provisioning workers and the job scheduler in this process against the PostgreSQL server in DATABASE_URL (Ctrl-C stops)')
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
    .action(async (opts: { status?: string; customer?: string; all?: boolean; limit?: number }) => {
      const status = opts.status === undefined ? undefined : parseStatus(opts.status);
      if (opts.status !== undefined && !status) throw new InvalidArgumentError(`unknown status "${opts.status}"`);
      await withRuntime(async (ctx, caller) => {
        const customerId = opts.customer ? (await getCustomer(ctx.db, caller, { name: opts.customer })).id : undefined;
        const rows = await listRequests(ctx.db, caller, { status, customerId, all: opts.all, limit: opts.limit });
        printTable(rows, ['id', 'parent_id', 'customer', 'entity', 'entity_id', 'action', 'status', 'attempts', 'requested_by', 'created_at', 'finished_at', 'error']);
      });
    });
  requests
    .command('show <id>')
    .description('a request with its log, processing times and children')
    .action(async (id: string) => {
      await withRuntime(async (ctx, caller) => {
        const view = await viewRequest(ctx.db, caller, positiveInt(id), { log: true, times: true });
        const r = view.request;
        console.log(`request ${r.id}: ${r.action} ${r.entity} ${r.entity_id} (customer ${r.customer_id}) — ${r.status}`);
        console.log(`parent: ${r.parent_id ?? '-'}  attempts: ${r.attempts}  requested by: ${r.requested_by}`);
        console.log(`created: ${r.created_at.toISOString()}  started: ${r.started_at?.toISOString() ?? '-'}  finished: ${r.finished_at?.toISOString() ?? '-'}`);
        if (r.error) console.log(`error: ${r.error}`);
        console.log('\nlog:');
        printTable((view.log ?? []).map((l) => ({ time: l.at, level: l.level, message: l.message })), ['time', 'level', 'message']);
        console.log('\ntimes:');
        printTable((view.times ?? []).map((t) => ({ step: t.step, started: t.started_at, ms: t.duration_ms })), ['step', 'started', 'ms']);
        const children = await viewChildRequests(ctx.db, caller, r.id);
        if (children.length) {
          console.log('\nchildren:');
          printTable(children.map((c) => c.request), ['id', 'sequence', 'entity', 'entity_id', 'action', 'status', 'attempts', 'error']);
        }
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

function registerServiceDriverCommands(program: Command): void {
  const services = program.commands.find((c) => c.name() === 'services') ?? program.command('services').description('catalog services: provisioning drivers');
  services
    .command('drivers')
    .description('which driver provisions each service (secrets are never shown)')
    .action(async () => {
      await withRuntime(async (ctx) => {
        const rows = await serviceDrivers(ctx.db);
        printTable(rows.map((r) => ({ ...r, config: JSON.stringify(r.config) })), ['service', 'driver', 'config']);
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
      url: o.url, bindDN: o.bindDn, baseDN: o.baseDn, usersAttribute: o.usersAttribute, timeoutMs: o.timeoutMs,
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
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
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
  const { ctx } = await openRuntime(config);
  const engine = await startProvisioningEngine(ctx, concurrency ? { concurrency } : {});
  const scheduler = withJobs ? await startJobScheduler(ctx) : undefined;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  ctx.logger.info('worker stopping');
  await scheduler?.stop();
  await engine.stop();
  await ctx.database.close();
}
