import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from '../support/engine.js';
import { adminQuery } from '../support/fresh-db.js';
import { runCliAsync } from '../support/server-process.js';

const BIN = path.resolve('bin/tenantry.js');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-start-'));
const started: ChildProcess[] = [];
let serverDb: string | undefined;

afterAll(async () => {
  for (const p of started) p.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (serverDb) await adminQuery(`drop database if exists ${serverDb} with (force)`);
});

/** An empty database for a real first start: PGlite in a fresh data dir, or a new database on the server. */
async function engineEnv(): Promise<NodeJS.ProcessEnv> {
  if (TEST_ENGINE === 'pglite') return {};
  serverDb ??= `tenantry_start_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${serverDb}`).catch((e) => {
    if (!String(e.message).includes('already exists')) throw e;
  });
  return { DATABASE_URL: databaseUrl(TEST_PG_URL, serverDb) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const k of ['DATABASE_URL', 'TENANTRY_ADMIN_PASSWORD', 'PORT']) delete base[k];
  return { ...base, TENANTRY_DATA_DIR: dataDir, TENANTRY_LOG_LEVEL: 'warn', ...extra };
}

/** `tenantry start` until /healthz answers; returns what it printed so far and how to stop it. */
async function start(extra: NodeJS.ProcessEnv): Promise<{ port: number; output: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'start'], { env: env({ ...extra, PORT: String(port), HOST: '127.0.0.1' }) });
  started.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.status === 200 && r.json())
      .catch(() => false);
    if (ok) {
      expect(ok).toEqual({ status: 'ok' });
      break;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { port, output: () => out, stop };
}

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCliAsync(args, env(extra));
}

// Each test starts processes that open (and on a first start, create) a database: seconds each, far more on a loaded machine.
describe('npm start on a fresh database', { timeout: 300_000 }, () => {
  it('creates the provider and its admin once, prints the generated password once, and a restart changes nothing', async () => {
    const dbEnv = await engineEnv();
    const first = await start(dbEnv);
    await first.stop();
    const password = /Created the provider admin user "admin" with password: (\S+)/.exec(first.output())?.[1];
    expect(password).toBeTruthy();

    const second = await start(dbEnv);
    const auth = 'Basic ' + Buffer.from(`admin:${password}`).toString('base64');
    const identity = await fetch(`http://127.0.0.1:${second.port}/CortexAPI/Default.aspx`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'text/xml' },
      body: '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><identity/></request>',
    }).then((r) => r.text());
    await second.stop();
    expect(second.output()).not.toContain('password:');
    expect(identity).toContain('<name>SP</name>');
    expect(identity).toContain('<fullname>Service Provider</fullname>');
    expect(identity).toContain('<name>admin_SP</name>');

    const list = await cli(['customer', 'list', '--json'], dbEnv);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((c: { name: string }) => c.name)).toEqual(['SP']);
  });
});

describe('configuration and command line errors', { timeout: 300_000 }, () => {
  it('a bad PORT fails with one clear line', async () => {
    const r = await cli(['start'], { PORT: 'eighty' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('tenantry: PORT must be a number between 0 and 65535, got "eighty"');
  });

  it('a bad DATABASE_URL fails with one clear line', async () => {
    const r = await cli(['migrate'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('DATABASE_URL must start with postgres://');
  });

  it('an unreachable PostgreSQL server fails with one clear line, no stack trace', async () => {
    const r = await cli(['migrate'], { DATABASE_URL: 'postgres://127.0.0.1:1/nowhere' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^tenantry: cannot connect to DATABASE_URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('lists every command in --help and refuses unknown commands and missing options', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'migrate', 'demo', 'customer', 'user', 'worker', 'requests', 'billing', 'token', 'jobs']) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    expect((await cli(['customer', 'create', '--help'])).stdout).toContain('--fullname');
    expect((await cli(['frobnicate'])).code).not.toBe(0);
    const missing = await cli(['customer', 'create', '--fullname', 'X']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--contact-name <name>' not specified");
  });
});
