import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { openDatabase, inTransaction, type Database } from '../../src/core/db/database.js';
import { createCustomer, getProvider } from '../../src/tenancy/customer.service.js';
import { systemCaller } from '../../src/tenancy/caller.js';
import { TEST_ENGINE } from '../support/engine.js';
import { openTestDatabase } from '../support/test-db.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** A webhook receiver that holds the first delivery of each request open (the worker is then mid-request). */
async function receiver() {
  const deliveries: number[] = [];
  let firstArrived!: () => void;
  const first = new Promise<void>((r) => (firstArrived = r));
  const server = http.createServer((req, res) => {
    const id = Number(req.headers['idempotency-key']);
    req.resume();
    req.on('end', () => {
      deliveries.push(id);
      if (deliveries.filter((d) => d === id).length === 1 && deliveries.length === 1) {
        firstArrived();
        return; // never answered: the worker is killed while waiting
      }
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, deliveries, first };
}

function spawnWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'worker-child.ts')], {
    env: { ...process.env, TENANTRY_LOG_LEVEL: 'warn', TENANTRY_PROVISIONING_LEASE_SECONDS: '2', TENANTRY_PROVISIONING_POLL_SECONDS: '0.5', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanup.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return child;
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

async function setUp(database: Database, hookUrl: string): Promise<number> {
  await database.db.updateTable('services').set({ driver: 'webhook', driver_config: JSON.stringify({ url: hookUrl, secret: 'test-secret', timeoutMs: 60_000 }) }).execute();
  const provider = (await getProvider(database.db))!;
  const { requestId } = await inTransaction(database.db, (tx) =>
    createCustomer(tx, systemCaller(provider), { name: 'CRASH', fullname: 'Crash Test', contactName: 'c', contactEmail: 'c@c.example', primaryDomain: 'crash.example' }),
  );
  return requestId;
}

describe('crash recovery', () => {
  it('finishes a request exactly once after its worker is killed with kill -9 mid-request', async () => {
    const hook = await receiver();
    let env: Record<string, string>;
    let reopen: () => Promise<Database>;
    let requestId: number;
    if (TEST_ENGINE === 'postgres') {
      const tdb = await openTestDatabase();
      cleanup.push(() => tdb.close());
      requestId = await setUp(tdb.database, hook.url);
      env = { DATABASE_URL: tdb.url! };
      reopen = async () => tdb.database;
    } else {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-crash-'));
      cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
      const database = await openDatabase({ dataDir, loadDataDir: new Blob([fs.readFileSync(inject('pgliteTemplate'))]) });
      requestId = await setUp(database, hook.url);
      await database.close();
      env = { TENANTRY_DATA_DIR: dataDir, DATABASE_URL: '' };
      reopen = async () => {
        const db = await openDatabase({ dataDir });
        cleanup.push(() => db.close());
        return db;
      };
    }
    const first = spawnWorker(env);
    await hook.first;
    first.kill('SIGKILL');
    await exited(first);
    const second = spawnWorker({ ...env, EXIT_WHEN_IDLE: '1' });
    expect(await exited(second)).toBe(0);

    const database = await reopen();
    const request = await database.db.selectFrom('provisioning_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(request.status).toBe('Provisioned');
    expect(request.attempts).toBe(2);
    const log = await database.db.selectFrom('request_log').select('message').where('request_id', '=', requestId).orderBy('id').execute();
    const messages = log.map((l) => l.message);
    expect(messages.filter((m) => /stopped renewing its lease/.test(m))).toHaveLength(1);
    expect(messages.filter((m) => m === 'Request completed: Provisioned')).toHaveLength(1);
    // Delivered twice with the same idempotency key (the receiver never answered the first).
    expect(hook.deliveries).toEqual([requestId, requestId]);
    const customer = await database.db.selectFrom('customers').select('status').where('name', '=', 'CRASH').executeTakeFirstOrThrow();
    expect(customer.status).toBe('Provisioned');
  });
});
