import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/db/database.js';
import { loadConfig } from '../../src/core/config.js';
import { generatePassword } from '../../src/core/crypto.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from '../support/engine.js';
import { adminQuery, createDatabase } from '../support/fresh-db.js';
import { BIN, freePort, runCliAsync, startServer, type ServerProcess } from '../support/server-process.js';
import { heldWebhook } from '../support/held-webhook.js';

/** What `tenantry requests show ID --json` answers about the request itself. */
interface RequestShown {
  request: { status: string; finishedAt: string | null };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-life-'));
const created: string[] = [];
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const s of servers) s.child.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
  for (const db of created) await adminQuery(`drop database if exists ${db} with (force)`);
});

/**
 * A new data directory (and on PostgreSQL a new database) for one test; `migrated` starts the
 * PostgreSQL database from the migrated template, for tests not about the first migration.
 */
async function freshEnv(extra: NodeJS.ProcessEnv = {}, opts: { migrated?: boolean } = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TENANTRY_DATA_DIR: fs.mkdtempSync(path.join(root, 'd-')),
    TENANTRY_LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
  for (const k of ['DATABASE_URL', 'PORT', 'TENANTRY_ADMIN_PASSWORD']) delete env[k];
  if (TEST_ENGINE === 'postgres') {
    const name = `tenantry_life_${randomBytes(4).toString('hex')}`;
    await createDatabase(name, opts);
    created.push(name);
    env.DATABASE_URL = databaseUrl(TEST_PG_URL, name);
  }
  return { ...env, ...extra };
}

/** `tenantry start` expected to fail: its exit code and output. */
function failedStart(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'start'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('a start that cannot serve exits', () => {
  it('with the port in use: non-zero, one line, nothing created or locked, and the CLI still works', async () => {
    const busy = net.createServer();
    const port = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as net.AddressInfo).port)),
    );
    try {
      const env = await freshEnv({ PORT: String(port) }, { migrated: true });
      const r = await failedStart(env);
      expect(r.code).not.toBe(0);
      expect(oneLine(r.stderr)).toBe(
        `tenantry: port ${port} on 127.0.0.1 is already in use (another Tenantry or another program); stop it or set PORT`,
      );
      expect(r.stdout).not.toContain('password');
      expect(fs.existsSync(path.join(env.TENANTRY_DATA_DIR!, 'tenantry.lock'))).toBe(false);
      const list = await runCliAsync(['customer', 'list', '--json'], env);
      expect(list.code).toBe(0);
    } finally {
      busy.close();
    }
  });

  it('with a HOST that is not a host name, or not this machine', async () => {
    const bad = await failedStart(await freshEnv({ HOST: 'not a host', PORT: '0' }));
    expect(bad.code).not.toBe(0);
    expect(oneLine(bad.stderr)).toBe(
      'tenantry: HOST must be an IP address (0.0.0.0 for all, :: for all IPv6) or a host name, got "not a host"',
    );
    // 192.0.2.1 is TEST-NET-1: never an address of this machine.
    const foreign = await failedStart(await freshEnv({ HOST: '192.0.2.1', PORT: String(await freePort()) }));
    expect(foreign.code).not.toBe(0);
    expect(oneLine(foreign.stderr)).toMatch(/^tenantry: HOST 192\.0\.2\.1 is not an address of this machine/);
  });

  it('with the database unreachable', async () => {
    const r = await failedStart(await freshEnv({ DATABASE_URL: 'postgres://127.0.0.1:1/nowhere', PORT: String(await freePort()) }));
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^tenantry: cannot connect to DATABASE_URL/);
  });

  it('when a migration fails, releasing the data directory', async () => {
    const env = await freshEnv({ PORT: String(await freePort()), TENANTRY_ADMIN_PASSWORD: 'Migrate-Fail-Passw0rd' });
    expect((await runCliAsync(['migrate'], env)).code).toBe(0);
    // A database migrated by a newer build: this one must refuse it rather than run on it.
    const database = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: env.TENANTRY_DATA_DIR! });
    await database.raw.query(`insert into schema_migrations (name, timestamp) values ('9999_from_the_future', now())`);
    await database.close();
    const r = await failedStart(env);
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^tenantry: (migration \S+ failed|cannot migrate the database): .*9999_from_the_future/);
    expect(fs.existsSync(path.join(env.TENANTRY_DATA_DIR!, 'tenantry.lock'))).toBe(false);
  });
});

describe('first start', () => {
  it('prints the generated admin password only once the server answers', async () => {
    const env = await freshEnv();
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start'], { env: { ...env, PORT: String(port) } });
    servers.push({ child } as ServerProcess);
    const answeredWhenPrinted = await new Promise<boolean>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('with password:')) {
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => resolve(r.status === 200),
            () => resolve(false),
          );
        }
      });
      child.once('exit', () => reject(new Error(`exited: ${out}`)));
    });
    expect(answeredWhenPrinted).toBe(true);
    child.kill('SIGTERM');
  });
});

describe('SIGTERM', () => {
  it('stops accepting, finishes the HTTP request and the provisioning work in hand, and exits 0', async () => {
    // A long grace period: the work in hand ends when the test lets it, not within a margin.
    const env = await freshEnv(
      { TENANTRY_ADMIN_PASSWORD: 'Drain-Test-Passw0rd', TENANTRY_LOG_LEVEL: 'info', TENANTRY_SHUTDOWN_GRACE_SECONDS: '600' },
      { migrated: true },
    );
    const server = await startServer(env);
    servers.push(server);
    // Every new customer's task also runs on this target, which holds its deliveries until the
    // signal has come (an 8 s simulated delay was a window a loaded machine could miss); the
    // driver's timeout is longer than any hold.
    const hook = await heldWebhook();
    try {
      expect(
        (
          await runCliAsync(
            ['services', 'set-driver', 'HE', 'webhook', '--url', hook.url, '--timeout-ms', '300000', '--secret-stdin'],
            env,
            'drain-secret',
          )
        ).code,
      ).toBe(0);
      const created = await runCliAsync(
        [
          'customer',
          'create',
          '--fullname',
          'Drained Customer',
          '--contact-name',
          'A',
          '--contact-email',
          'a@drain.example',
          '--domain',
          'drain.example',
        ],
        env,
      );
      const requestId = /provisioning request (\d+)/.exec(created.stdout)![1]!;
      // The work is in hand (its delivery held) and the request InProgress.
      await hook.arrived;
      const basic = `Basic ${Buffer.from('admin:Drain-Test-Passw0rd').toString('base64')}`;
      for (;;) {
        const url = `http://127.0.0.1:${server.port}/api/console/requests/${requestId}`;
        const { status } = (await (await fetch(url, { headers: { authorization: basic } })).json()) as { status: string };
        if (status === 'InProgress') break;
        expect(status).toBe('Requested');
      }
      // An HTTP request whose body is still arriving when the signal comes.
      const body = '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><identity/></request>';
      const auth = Buffer.from('admin:Drain-Test-Passw0rd').toString('base64');
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let answer = '';
      socket.on('data', (d) => (answer += d));
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(
        `POST /CortexAPI/Default.aspx HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 20)}`,
      );
      // The signal must come after the server has taken the request in (headers read), not before.
      const taken = () =>
        server
          .output()
          .split('\n')
          .some((l) => l.includes('incoming request') && l.includes('/CortexAPI/Default.aspx'));
      while (!taken()) await new Promise((r) => setTimeout(r, 50));
      const signalledAt = new Date();
      server.child.kill('SIGTERM');
      while (!server.output().includes('shutting down')) await new Promise((r) => setTimeout(r, 50));
      const refused = await fetch(`http://127.0.0.1:${server.port}/healthz`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
      hook.release();
      socket.write(body.slice(20));
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(answer).toContain('<name>admin_SP</name>');
      expect(await server.exited).toBe(0);
      expect(fs.existsSync(path.join(env.TENANTRY_DATA_DIR!, 'tenantry.lock'))).toBe(false);
      const after = (JSON.parse((await runCliAsync(['requests', 'show', requestId, '--json'], env)).stdout) as RequestShown).request;
      expect(after.status).toBe('Provisioned');
      const finished = new Date(after.finishedAt!);
      expect(finished.getTime()).toBeGreaterThan(signalledAt.getTime());
    } finally {
      await hook.close();
    }
  }, 600_000);
});

describe('settings', () => {
  const bad = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('takes booleans as true/false/1/0 only, numbers in range, and a strong admin password', () => {
    expect(bad({ TENANTRY_WORKERS: 'two' })).toBe('TENANTRY_WORKERS must be true, false, 1 or 0, got "two"');
    expect(bad({ TENANTRY_WORKERS: '-1' })).toBe('TENANTRY_WORKERS must be true, false, 1 or 0, got "-1"');
    expect(loadConfig({ TENANTRY_WORKERS: 'false' }).inProcessWorkers).toBe(false);
    expect(loadConfig({ TENANTRY_WORKERS: '1' }).inProcessWorkers).toBe(true);
    expect(bad({ TENANTRY_CORTEX_READ_CACHE: 'yes' })).toBe('TENANTRY_CORTEX_READ_CACHE must be true, false, 1 or 0, got "yes"');
    expect(loadConfig({ TENANTRY_CORTEX_READ_CACHE: '0' }).cortexReadCache).toBe(false);
    expect(bad({ TENANTRY_ADMIN_PASSWORD: '123' })).toMatch(/^TENANTRY_ADMIN_PASSWORD must be at least 12 characters/);
    expect(bad({ TENANTRY_ADMIN_PASSWORD: 'alllowercaseletters' })).toMatch(/^TENANTRY_ADMIN_PASSWORD must be at least 12 characters/);
    expect(loadConfig({ TENANTRY_ADMIN_PASSWORD: 'Long-Enough-Passw0rd' }).adminPassword).toBe('Long-Enough-Passw0rd');
    expect(bad({ TENANTRY_PROVISIONING_CONCURRENCY: '1.5' })).toBe(
      'TENANTRY_PROVISIONING_CONCURRENCY must be a positive whole number, got "1.5"',
    );
    expect(bad({ TENANTRY_PROVISIONING_LEASE_SECONDS: '0' })).toBe(
      'TENANTRY_PROVISIONING_LEASE_SECONDS must be a positive number, got "0"',
    );
    expect(loadConfig({ TENANTRY_PROVISIONING_POLL_SECONDS: '0.5' }).port).toBe(8080);
    expect(bad({ TENANTRY_SHUTDOWN_GRACE_SECONDS: 'soon' })).toBe('TENANTRY_SHUTDOWN_GRACE_SECONDS must be a positive integer, got "soon"');
    expect(bad({ HOST: 'a b' })).toMatch(/^HOST must be an IP address/);
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
    expect(loadConfig({ HOST: 'tenantry.example.net' }).host).toBe('tenantry.example.net');
  });

  it('a bad value stops the CLI with one line', async () => {
    const r = await runCliAsync(['customer', 'list'], { ...process.env, TENANTRY_WORKERS: 'two' });
    expect(r.code).not.toBe(0);
    expect(oneLine(r.stderr)).toBe('tenantry: TENANTRY_WORKERS must be true, false, 1 or 0, got "two"');
  });
});

describe('generated passwords', () => {
  it('paste into a shell unquoted and never read as an option', () => {
    for (let i = 0; i < 500; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[A-Za-z][A-Za-z0-9%+\-.:@_]{15}$/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/\d/);
      expect(p).toMatch(/[%+\-.:@_]/);
    }
  });
});
