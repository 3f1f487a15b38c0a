import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshInstall, type FreshInstall } from '../support/fresh-db.js';
import { runCliAsync, startServer, type ServerProcess } from '../support/server-process.js';

// Every command is a child process, through the running server's socket on the embedded database.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let install: FreshInstall;
let server: ServerProcess | undefined;
const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_LOG_LEVEL: 'warn' };

beforeAll(async () => {
  install = await freshInstall({ TENANTRY_LOG_LEVEL: 'warn' }, { migrated: true });
  Object.assign(env, install.env);
  for (const k of ['PORT', 'TENANTRY_NEW_PASSWORD']) delete env[k];
  if (!install.env.DATABASE_URL) delete env.DATABASE_URL;
  server = await startServer(env);
});
afterAll(async () => {
  await server?.stop();
  await install?.drop();
});

/** Runs a command that must succeed; answers stdout and stderr. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCliAsync(args, env);
  expect({ args, code: r.code }, r.stderr).toEqual({ args, code: 0 });
  return r;
}

/** `--json` must print exactly one JSON document on stdout and nothing on stderr. */
async function json<T = any>(...args: string[]): Promise<T> {
  const r = await run([...args, '--json']);
  expect({ args, stderr: r.stderr }).toEqual({ args, stderr: '' });
  return JSON.parse(r.stdout) as T;
}

const DATE = /^\d{4}-\d\d-\d\d$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('long commands report progress on stderr, so --json on stdout stays clean', () => {
  it('demo counts the customers it loads', async () => {
    const demo = await run(['demo', '--password', 'Demo-Passw0rd!x']);
    expect(demo.stderr.split('\n')).toEqual([
      expect.stringMatching(/^1\/4 Northwind Reseller: \d+ user\(s\), \d+ service\(s\)…$/),
      expect.stringMatching(/^2\/4 Fabrikam Incorporated: /),
      expect.stringMatching(/^3\/4 Adventure Works: /),
      expect.stringMatching(/^4\/4 Tailspin Toys: /),
      '',
    ]);
    expect(demo.stdout).toMatch(/^demo data loaded: 4 customers/);
  });

  it('billing run and reprocess: phases per period on stderr, the runs as JSON on stdout', async () => {
    const billed = await run(['billing', 'run', '--json']);
    const [period] = billed.stderr.match(/\d{4}-\d\d-\d\d/) ?? [];
    expect(billed.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^period ${period} \\(.+, open\\): computing items from the ledger…$`)),
      expect.stringMatching(new RegExp(`^period ${period}: \\d+ items \\(\\d+ written, \\d+ replaced or gone\\) in \\d+ ms$`)),
      '',
    ]);
    const runs = JSON.parse(billed.stdout) as { runId: number; periodEndDate: string; items: number }[];
    expect(runs).toEqual([
      {
        runId: expect.any(Number),
        periodEndDate: period,
        periodName: expect.any(String),
        items: expect.any(Number),
        added: expect.any(Number),
        removed: 0,
        ms: expect.any(Number),
      },
    ]);
    expect(runs[0]!.items).toBeGreaterThan(0);

    const reprocessed = await run(['billing', 'reprocess', '--json']);
    expect(reprocessed.stderr).toMatch(
      new RegExp(`^period ${period} .*computing items from the ledger…\\nperiod ${period}: ${runs[0]!.items} items `),
    );
    expect(JSON.parse(reprocessed.stdout)).toMatchObject({ runId: runs[0]!.runId + 1, periodEndDate: period, items: runs[0]!.items });
  });
});

describe('--json on every list and show command', () => {
  it('billing: settings, periods, runs, summary and rules, with names beside ids in the tables', async () => {
    // Commands that only read run side by side (each is a process of its own).
    const [settings, periods, runs, summary] = await Promise.all([
      json('billing', 'settings'),
      json<{ endDate: string; status: string }[]>('billing', 'periods'),
      json<{ id: number; kind: string; actor: string; startedAt: string }[]>('billing', 'runs'),
      json<{ items: { customerCode: string }[] }>('billing', 'summary', '--by-customer'),
    ]);
    expect(settings).toEqual({ timeZone: 'UTC', kind: 'month-end', day: expect.any(Number) });
    expect(periods).toEqual([expect.objectContaining({ id: expect.any(Number), endDate: expect.stringMatching(DATE), status: 'open' })]);
    expect(runs.map((r) => r.kind)).toEqual(['reprocess', 'on_demand']);
    expect(runs[0]).toMatchObject({
      periodEndDate: periods[0]!.endDate,
      status: 'succeeded',
      actor: 'cli',
      startedAt: expect.stringMatching(ISO),
    });
    expect(summary.items.map((i) => i.customerCode)).toContain('FI');

    await run([
      'billing',
      'rules',
      'add',
      '--customer',
      'NR',
      '--only-customer',
      '--service',
      'HE',
      '--description',
      'Own mailboxes',
      '--reason',
      'Internal',
    ]);
    const [rules, rulesTable] = await Promise.all([
      json<Record<string, unknown>[]>('billing', 'rules', 'list'),
      run(['billing', 'rules', 'list']),
    ]);
    expect(rules).toEqual([
      expect.objectContaining({
        description: 'Own mailboxes',
        customerId: expect.any(Number),
        customer: 'NR',
        serviceId: expect.any(Number),
        service: 'HE',
      }),
    ]);
    expect(rulesTable.stdout.split('\n')[1]).toMatch(/ Own mailboxes +Internal +NR +HE /);
  });

  it('requests: list and show name the customer and what each request changes', async () => {
    const [list, listTable] = await Promise.all([
      json<{ id: number; customer: { name: string }; entity: string; entityName: string; status: string }[]>(
        'requests',
        'list',
        '--customer',
        'FI',
      ),
      run(['requests', 'list', '--customer', 'FI']),
    ]);
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((r) => r.customer.name === 'FI')).toBe(true);
    const created = list.find((r) => r.entity === 'customer')!;
    expect(created).toMatchObject({ entityName: 'FI', action: 'provision', createdAt: expect.stringMatching(ISO) });
    const table = listTable.stdout.split('\n');
    expect(table[0]).toMatch(/^id +parent +customer +entity +action +status/);
    expect(table.find((l) => l.startsWith(`${created.id} `))).toMatch(new RegExp(`^${created.id} +FI +customer FI \\(\\d+\\) +provision `));

    const [shown, shownTable] = await Promise.all([
      json('requests', 'show', String(created.id)),
      run(['requests', 'show', String(created.id)]),
    ]);
    expect(shown).toEqual({
      request: expect.objectContaining({ id: created.id, customer: { id: expect.any(Number), name: 'FI' }, entityName: 'FI' }),
      log: expect.arrayContaining([{ at: expect.stringMatching(ISO), level: expect.any(String), message: expect.any(String) }]),
      times: expect.any(Array),
      children: expect.any(Array),
    });
    expect(shownTable.stdout).toMatch(/^customer: +FI \(id \d+\)$/m);
  });

  it('jobs: list, run, runs and log; the job named by its label', async () => {
    const [job] = await json<{ id: number; label: string }[]>('jobs', 'list');
    expect(job!.label).toBe('Daily Billing Run');
    const ran = await json<{ id: number; jobId: number; status: string; counts: object }>('jobs', 'run', String(job!.id));
    expect(ran).toMatchObject({ jobId: job!.id, status: 'Succeeded', counts: expect.any(Object), changes: expect.any(Array) });
    const [runs, runsTable, log, logTable] = await Promise.all([
      json<{ id: number }[]>('jobs', 'runs', String(job!.id)),
      run(['jobs', 'runs', String(job!.id)]),
      json<{ code: string; level: string; message: string }[]>('jobs', 'log', String(ran.id)),
      run(['jobs', 'log', String(ran.id)]),
    ]);
    expect(runs[0]).toMatchObject({ id: ran.id, jobId: job!.id, status: 'Succeeded', startedAt: expect.stringMatching(ISO) });
    expect(runsTable.stdout.split('\n')[0]).toBe(`runs of job ${job!.id} "Daily Billing Run", newest first:`);
    expect(log.length).toBeGreaterThan(0);
    expect(log[0]).toMatchObject({ code: expect.any(String), level: expect.any(String), message: expect.any(String) });
    expect(logTable.stdout.split('\n')[0]).toBe(`log of run ${ran.id} of job ${job!.id} "Daily Billing Run":`);
  });

  it('tokens, drivers and the catalog', async () => {
    await run(['token', 'create', '--user', 'admin_SP', '--label', 'Power BI']);
    const [tokens, drivers, catalog] = await Promise.all([
      json<Record<string, unknown>[]>('token', 'list', '--user', 'admin_SP'),
      json<{ service: string; driver: string }[]>('services', 'drivers'),
      json<{ code: string }[]>('catalog'),
    ]);
    expect(tokens).toEqual([
      {
        id: expect.any(Number),
        userId: expect.any(Number),
        label: 'Power BI',
        createdAt: expect.stringMatching(ISO),
        expiresAt: null,
        lastUsedAt: null,
      },
    ]);
    expect(drivers).toContainEqual(expect.objectContaining({ service: 'HE', driver: 'simulated' }));
    expect(catalog.map((s) => s.code)).toContain('HE');
  });
});
