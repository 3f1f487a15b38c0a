import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { inTransaction, type Database } from '../src/core/db/database.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { createCustomer, type Customer } from '../src/tenancy/customer.service.js';
import { benchDatabase, percentile, rate } from './support.js';
import type { Bench } from './run.js';

const BACKLOG = 2000;
const LATENCY_SAMPLES = 200;
let created = 0;

/** Worker processes (`test/provisioning/worker-child.ts`, the engine alone) against the bench database. */
async function startWorkers(count: number, url: string): Promise<ChildProcess[]> {
  const script = path.join(import.meta.dirname, '..', 'test', 'provisioning', 'worker-child.ts');
  const workers = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, DATABASE_URL: url, TENANTRY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.stdout!.once('data', () => resolve()))));
  return workers;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => { w.once('exit', () => resolve()); w.kill('SIGTERM'); })));
}

async function newCustomers(database: Database, provider: Customer, count: number): Promise<number[]> {
  const caller = systemCaller(provider);
  const ids: number[] = [];
  await inTransaction(database.db, async (tx) => {
    for (let i = 0; i < count; i++) {
      const n = created++;
      ids.push((await createCustomer(tx, caller, { name: `B${n}`, fullname: `Bench ${n}`, contactName: 'c', contactEmail: 'c@c.example', primaryDomain: 'bench.example' })).requestId);
    }
  });
  return ids;
}

async function waitDone(database: Database, lastId: number): Promise<void> {
  for (;;) {
    const open = await database.db.selectFrom('provisioning_requests').select('id').where('id', '<=', lastId).where('status', 'in', ['Requested', 'InProgress']).limit(1).executeTakeFirst();
    if (!open) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Requests/s with the simulated driver at zero delay, 1 vs 2 worker processes; commit → start latency. */
export const provisioningBench: Bench = {
  name: 'provisioning',
  async run() {
    for (const processes of [1, 2]) {
      const { database, provider } = await benchDatabase('postgres');
      // The backlog exists before the workers start, so the rate is the workers' own, not the creator's.
      let ids: number[] = [];
      for (let batch = 0; batch < BACKLOG / 100; batch++) ids = await newCustomers(database, provider, 100);
      const workers = await startWorkers(processes, database.url!);
      try {
        await waitDone(database, ids.at(-1)!);
        const span = await database.db
          .selectFrom('provisioning_requests')
          .select([(eb) => eb.fn.min('started_at').as('first'), (eb) => eb.fn.max('finished_at').as('last')])
          .where('id', '<=', ids.at(-1)!)
          .executeTakeFirstOrThrow();
        const ms = new Date(span.last as Date).getTime() - new Date(span.first as Date).getTime();
        console.log(`[postgres] ${processes} worker process(es) × 4: a backlog of ${BACKLOG} requests drained in ${Math.round(ms)} ms = ${rate(BACKLOG, ms)} (first start → last finish)`);

        const latencies: number[] = [];
        for (let i = 0; i < LATENCY_SAMPLES; i++) {
          const [id] = await newCustomers(database, provider, 1);
          const committed = Date.now();
          await waitDone(database, id!);
          const row = await database.db.selectFrom('provisioning_requests').select('started_at').where('id', '=', id!).executeTakeFirstOrThrow();
          latencies.push(row.started_at!.getTime() - committed);
        }
        latencies.sort((a, b) => a - b);
        console.log(`[postgres] ${processes} worker process(es): queue latency commit → start p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${LATENCY_SAMPLES} single requests)`);
      } finally {
        await stopWorkers(workers);
        await database.close();
      }
    }
  },
};
