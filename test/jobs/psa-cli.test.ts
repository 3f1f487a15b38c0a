import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoJobs, demoQuantities, startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from '../support/engine.js';
import { adminQuery, createDatabase } from '../support/fresh-db.js';
import { editPsaByHand } from '../support/psa.js';
import { runCliAsync, startServer, type CliResult, type ServerProcess } from '../support/server-process.js';

/*
 * The real `tenantry` binary (dist/) for the PSA commands of issue 11: `psa mapping` (§6) and
 * `jobs approve|reject` (§7) against the in-process Autotask and ConnectWise simulators, checking
 * what they print, what they change and how they fail. The CLI acts as the provider (system
 * caller), so every customer and run is in its reach: its failures are unknown ids and bad input.
 */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-psa-cli-'));
const db = `tenantry_psa_cli_${randomBytes(4).toString('hex')}`;
let env: NodeJS.ProcessEnv;
let demo: PsaDemo;
let server: ServerProcess | undefined;

// Every step spawns the CLI (and a run talks to a simulator): minutes on a loaded machine, bounded by the commands themselves.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

beforeAll(async () => {
  env = { ...process.env, TENANTRY_DATA_DIR: dataDir, TENANTRY_LOG_LEVEL: 'warn', TENANTRY_ADMIN_PASSWORD: 'Psa-Cli-Passw0rd!' };
  for (const k of ['DATABASE_URL', 'PORT', 'TENANTRY_NEW_PASSWORD']) delete env[k];
  if (TEST_ENGINE === 'postgres') {
    await createDatabase(db, { migrated: true });
    env.DATABASE_URL = databaseUrl(TEST_PG_URL, db);
  }
  demo = await startPsaDemo();
  // With the embedded database, commands reach it through the running server's socket, as an operator's would.
  server = await startServer(env);
  await ok(['demo']);
  await ok(['billing', 'run']);
});
afterAll(async () => {
  await server?.stop();
  await demo?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (TEST_ENGINE === 'postgres') await adminQuery(`drop database if exists ${db} with (force)`);
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await runCliAsync(args, env, input);
  // Long commands (demo, billing run) report progress on stderr; an error or stack trace never.
  expect({ args, code: r.code }).toEqual({ args, code: 0 });
  expect(r.stderr).not.toMatch(/^(tenantry|error):|^\s+at .+:\d+:\d+\)?$/m);
  return r.stdout;
}

/** A command that must fail: non-zero exit, one `tenantry:` line on stderr, no stack trace. */
async function fails(args: string[]): Promise<CliResult> {
  const r = await runCliAsync(args, env);
  expect(r.code, args.join(' ')).not.toBe(0);
  expect(r.stderr).toMatch(/^(tenantry|error):/m);
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  return r;
}

describe('tenantry psa mapping', () => {
  let code: string;

  it('shows the rule by default, sets both ids, reads them back from the database, and clears one with none', async () => {
    code = /^created customer (\S+)/.exec(
      await ok([
        'customer',
        'create',
        '--fullname',
        'Mapping Customer',
        '--contact-name',
        'Ann',
        '--contact-email',
        'ann@mapping.example',
        '--domain',
        'mapping.example',
      ]),
    )![1]!;
    const shown = await ok(['psa', 'mapping', code]);
    expect(shown).toContain('Autotask contract:    chosen by rule');
    expect(shown).toContain('ConnectWise agreement: chosen by rule');

    const set = await ok(['psa', 'mapping', code, '--contract', '29684001', '--agreement', '77']);
    expect(set).toContain('Autotask contract:    29684001');
    expect(set).toContain('ConnectWise agreement: 77');
    // A separate process reads what the first one stored.
    expect(JSON.parse(await ok(['psa', 'mapping', code, '--json']))).toEqual({ autotaskContractId: 29684001, connectwiseAgreementId: 77 });

    await ok(['psa', 'mapping', code, '--contract', 'none']);
    expect(JSON.parse(await ok(['psa', 'mapping', code, '--json']))).toEqual({ autotaskContractId: null, connectwiseAgreementId: 77 });
  });

  it('refuses an id that is no positive whole number and an unknown customer, changing nothing', async () => {
    // Independent processes: run side by side.
    const [unknown, ...refused] = await Promise.all([
      fails(['psa', 'mapping', 'NO-SUCH-CUSTOMER', '--agreement', '5']),
      ...['0', '-4', 'abc', '1.5'].map((bad) => fails(['psa', 'mapping', code, '--contract', bad])),
    ]);
    for (const r of refused) expect(r.stderr).toMatch(/positive whole number or "none"/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not found|does not exist|no customer/i);
    expect(JSON.parse(await ok(['psa', 'mapping', code, '--json']))).toEqual({ autotaskContractId: null, connectwiseAgreementId: 77 });
  });
});

describe.each(['autotask', 'connectwise'] as const)('tenantry jobs approve | reject: %s', (psa) => {
  let jobId: string;
  const runOf = (out: string) => /^run (\d+) of job/m.exec(out)![1]!;

  beforeAll(async () => {
    const input = demoJobs(demo)[psa === 'autotask' ? 0 : 1]!;
    const created = await ok(
      [
        'jobs',
        'create',
        '--task',
        input.task!,
        '--label',
        `CLI approval ${psa}`,
        '--log-level',
        'Verbose',
        '--cron',
        '0 22 26 * *',
        '--parameters',
        JSON.stringify({ ...(input.parameters as object), RequireApproval: 'True' }),
        '--secrets-file',
        '-',
      ],
      JSON.stringify(input.secrets),
    );
    jobId = /^created job (\d+)/.exec(created)![1]!;
  });

  it('a run waits with its diff; approve writes exactly it and prints what changed; the next run has nothing to approve', async () => {
    const before = demoQuantities(demo);
    const waiting = await ok(['jobs', 'run', jobId]);
    expect(waiting).toMatch(/: AwaitingApproval$/m);
    const runId = runOf(waiting);
    expect(waiting).toContain(`changes awaiting approval (tenantry jobs approve ${runId} | tenantry jobs reject ${runId}):`);
    expect(waiting).not.toContain('changes made:');
    expect(demoQuantities(demo)).toEqual(before);

    const approved = await ok(['jobs', 'approve', runId]);
    expect(approved).toMatch(new RegExp(`^run ${runId} of job ${jobId} "[^"]*": (Succeeded|CompletedWith\\w+)$`, 'm'));
    expect(approved).toContain('changes made:');
    const after = demoQuantities(demo);
    expect(after).not.toEqual(before);
    // Every line the diff listed now holds its new quantity in the PSA.
    const rows = approved
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((cols) => cols.length >= 7 && /^\d+$/.test(cols.at(-1)!) && cols[4] !== 'action');
    expect(rows.length).toBeGreaterThan(0);
    for (const cols of rows) {
      const [, company, sku] = cols;
      expect(after.find((r) => r.billingId === company && r.sku === sku)?.[psa], `${company} ${sku}`).toBe(Number(cols.at(-1)));
    }

    const next = await ok(['jobs', 'run', jobId]);
    expect(next).not.toMatch(/AwaitingApproval/);
    expect(demoQuantities(demo)).toEqual(after);

    // Approving it again: it no longer awaits approval.
    const again = await fails(['jobs', 'approve', runId]);
    expect(again.stderr).toMatch(/approval/i);
  });

  it('reject ends a waiting run and writes nothing', async () => {
    editPsaByHand(demo, psa);
    const edited = demoQuantities(demo);
    const runId = runOf(await ok(['jobs', 'run', jobId]));
    expect(await ok(['jobs', 'reject', runId])).toBe(`run ${runId} rejected\n`);
    expect(demoQuantities(demo)).toEqual(edited);
    const [runs, rejectAgain, approveAfter] = await Promise.all([
      ok(['jobs', 'runs', jobId]),
      fails(['jobs', 'reject', runId]),
      fails(['jobs', 'approve', runId]),
    ]);
    expect(runs).toMatch(new RegExp(`\\b${runId}\\b.*Rejected`));
    expect(rejectAgain.stderr).toMatch(/approval/i);
    expect(approveAfter.stderr).toMatch(/approval/i);
  });

  it('unknown and malformed run ids are refused', async () => {
    const verbs = ['approve', 'reject'];
    const [unknown, malformed] = await Promise.all([
      Promise.all(verbs.map((verb) => fails(['jobs', verb, '987654']))),
      Promise.all(verbs.map((verb) => fails(['jobs', verb, 'abc']))),
    ]);
    for (const r of unknown) expect(r.stderr).toMatch(/not found|no run|does not exist/i);
    for (const r of malformed) expect(r.stderr).toMatch(/run id/);
  });
});
