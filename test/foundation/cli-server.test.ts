import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../src/cli/program.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from '../support/engine.js';
import { adminQuery } from '../support/fresh-db.js';
import { BIN, runCliAsync, startServer, type ServerProcess } from '../support/server-process.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-cli-'));
const serverDb = `tenantry_cli_${randomBytes(4).toString('hex')}`;
let server: ServerProcess | undefined;

afterAll(async () => {
  server?.child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (TEST_ENGINE === 'postgres') await adminQuery(`drop database if exists ${serverDb} with (force)`);
});

async function env(): Promise<NodeJS.ProcessEnv> {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    TENANTRY_DATA_DIR: dataDir,
    TENANTRY_LOG_LEVEL: 'warn',
    TENANTRY_ADMIN_PASSWORD: 'Cli-Server-Passw0rd!',
  };
  for (const k of ['DATABASE_URL', 'PORT', 'TENANTRY_NEW_PASSWORD']) delete base[k];
  if (TEST_ENGINE === 'postgres') {
    await adminQuery(`create database ${serverDb}`).catch((e) => {
      if (!String(e.message).includes('already exists')) throw e;
    });
    base.DATABASE_URL = databaseUrl(TEST_PG_URL, serverDb);
  }
  return base;
}

describe('the CLI while the server runs', () => {
  it('runs the README commands in a second terminal, with their input, output, files and exit codes', async () => {
    const e = await env();
    server = await startServer(e);
    if (TEST_ENGINE === 'pglite') {
      // The embedded database has one writer: commands reach it through the server's owner-only socket.
      expect(fs.statSync(path.join(dataDir, 'tenantry.sock')).mode & 0o777).toBe(0o600);
    }
    const ok = async (args: string[], input?: string) => {
      const r = await runCliAsync(args, e, input);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return r.stdout;
    };
    // Long commands report progress on stderr (through the socket too); their answer is on stdout.
    const long = async (args: string[]) => {
      const r = await runCliAsync(args, e);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      return r;
    };
    const demo = await long(['demo']);
    expect(demo.stdout).toContain('demo data loaded');
    expect(demo.stderr).toMatch(/^1\/4 Northwind Reseller: \d+ user\(s\), \d+ service\(s\)…\n2\/4 /);
    expect(
      await ok([
        'customer',
        'create',
        '--fullname',
        'Basic API Customer',
        '--contact-name',
        'Admin',
        '--contact-email',
        'admin@csm.local',
        '--domain',
        'csm.local',
      ]),
    ).toMatch(/^created customer BAC/);
    expect(await ok(['user', 'create', '--customer', 'BAC', '--name', 'User1'])).toMatch(/password: \S+ \(shown only once\)/);
    // Standard input reaches the command: the password is piped, as in the README.
    expect(await ok(['user', 'set-password', 'admin_SP'], 'N3w-Passw0rd!x\n')).toContain('password of admin_SP changed');
    const auth = 'Basic ' + Buffer.from('admin:N3w-Passw0rd!x').toString('base64');
    const identity = await fetch(`http://127.0.0.1:${server.port}/CortexAPI/Default.aspx`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'text/xml' },
      body: '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><identity/></request>',
    }).then((r) => r.text());
    expect(identity).toContain('<name>admin_SP</name>');
    expect(await ok(['user', 'disable', 'User1_BAC'])).toContain('disabled');
    expect(await ok(['token', 'create', '--user', 'admin_SP', '--label', 'Power BI'])).toMatch(/^token \d+ "Power BI"/);
    expect(await ok(['billing', 'settings', '--time-zone', 'Europe/London'])).toContain('time zone Europe/London');
    expect(await ok(['billing', 'rules', 'no-sku'])).toContain('not billable');
    const billed = await long(['billing', 'run']);
    expect(billed.stdout).toContain('billing run finished');
    expect(billed.stderr).toMatch(/^period \d{4}-\d\d-\d\d \(.+\): computing items from the ledger…\n/);
    expect(await ok(['services', 'drivers'])).toContain('simulated');
    expect(await ok(['jobs', 'list'])).toMatch(/^id\s+label/);
    const customers = JSON.parse(await ok(['customer', 'list', '--json'])) as { name: string }[];
    expect(customers.map((c) => c.name)).toEqual(expect.arrayContaining(['SP', 'NR', 'BAC']));
    // Relative paths name files where the user runs the command.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-cli-cwd-'));
    fs.writeFileSync(path.join(cwd, 'params.json'), '{}');
    const relative = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [BIN, 'jobs', 'create', '--task', 'billing-run', '--label', 'Nightly', '--cron', '0 2 * * *', '--parameters', '@params.json'],
        { env: e, cwd },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end();
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    expect(relative).toEqual({ code: 0, stderr: '' });
    if (TEST_ENGINE === 'pglite') {
      const file = path.join(cwd, 'live.tar.gz');
      const backup = await long(['backup', file]);
      expect(backup.stdout).toContain('written to');
      expect(backup.stderr).toContain('backup 2/2: writing');
      expect(fs.statSync(file).size).toBeGreaterThan(0);
    }
    fs.rmSync(cwd, { recursive: true, force: true });
    // Failures keep their message and exit code.
    const missing = await runCliAsync(['customer', 'list', '--parent', 'NOPE'], e);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tenantry: .*NOPE/);
    const usage = await runCliAsync(['customer', 'create', '--fullname', 'X'], e);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toContain("required option '--contact-name <name>' not specified");
    // A reader that stops early is not an error.
    const piped = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" requests list --all | head -1`], { env: e });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.once('exit', (code) => resolve({ code, out, err }));
    });
    expect(piped.out).toMatch(/^id\s+parent\s+customer\s+entity/);
    expect(piped.err).toBe('');

    expect(await server.stop()).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'tenantry.sock'))).toBe(false);
    // And with no server running, the same commands run in-process.
    const after = JSON.parse(await ok(['customer', 'list', '--json'])) as { name: string }[];
    expect(after.map((c) => c.name)).toEqual(customers.map((c) => c.name));
  }, 600_000);
});

describe('the command table', () => {
  it('names every top-level command each group registers, with the same description', async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command();
      (await group.load())(program);
      const registered = Object.fromEntries(program.commands.map((c) => [c.name(), c.description()]));
      expect(registered).toEqual(group.commands);
    }
  });
});
