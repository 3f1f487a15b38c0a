import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { inTransaction, type Database } from '../src/core/db/database.js';
import { Queue } from '../src/core/queue.js';
import { createLogger } from '../src/core/logger.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { createCustomer, type Customer } from '../src/tenancy/customer.service.js';
import { benchDatabase, percentile, rate, ratio } from './support.js';
import { bySize } from './size.js';
import type { Bench } from './run.js';

const BACKLOG = bySize({ quick: 200, default: 2000 });
const LATENCY_SAMPLES = bySize({ quick: 20, default: 200 });
/** Workers per process, as the engine's default concurrency. */
const CONCURRENCY = 4;
let created = 0;

/** Worker processes (`test/provisioning/worker-child.ts`, the engine alone) against the bench database. */
async function startWorkers(count: number, url: string): Promise<ChildProcess[]> {
  const script = path.join(import.meta.dirname, '..', 'test', 'provisioning', 'worker-child.ts');
  const workers = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DATABASE_URL: url, TENANTRY_LOG_LEVEL: 'warn', TENANTRY_PROVISIONING_CONCURRENCY: String(CONCURRENCY) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    }),
  );
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.stdout!.once('data', () => resolve()))));
  return workers;
}

/** Database round trips the worker process has made since it started (it counts its pg client queries). */
function roundTrips(worker: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', (m: { queries: number }) => resolve(m.queries));
    worker.send('count');
  });
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * Starts measuring how busy the whole machine's CPUs are (Linux /proc/stat); the function it returns
 * gives the busy share since then, or undefined where /proc/stat does not exist. A drain that keeps
 * the machine near 100% is CPU-bound: a second worker process can then only take CPU from the first
 * and from PostgreSQL on the same cores.
 */
function machineBusy(): () => number | undefined {
  const read = () => {
    try {
      return fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return undefined;
    }
  };
  const start = read();
  return () => {
    const end = read();
    if (!start || !end) return undefined;
    const spent = end.map((v, i) => v - start[i]!);
    const total = spent.reduce((a, b) => a + b, 0);
    // Fields: user nice system idle iowait irq softirq steal …; idle and iowait are not busy.
    return total > 0 ? 1 - (spent[3]! + spent[4]!) / total : undefined;
  };
}

async function newCustomers(database: Database, provider: Customer, count: number): Promise<number[]> {
  const caller = systemCaller(provider);
  const ids: number[] = [];
  await inTransaction(database.db, async (tx) => {
    for (let i = 0; i < count; i++) {
      const n = created++;
      ids.push(
        (
          await createCustomer(tx, caller, {
            name: `B${n}`,
            fullname: `Bench ${n}`,
            contactName: 'c',
            contactEmail: 'c@c.example',
            primaryDomain: 'bench.example',
          })
        ).requestId,
      );
    }
  });
  return ids;
}

async function waitDone(database: Database, lastId: number): Promise<void> {
  for (;;) {
    const open = await database.db
      .selectFrom('provisioning_requests')
      .select('id')
      .where('id', '<=', lastId)
      .where('status', 'in', ['Requested', 'InProgress'])
      .limit(1)
      .executeTakeFirst();
    if (!open) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The baseline: the queue library's own throughput on the same server in the same run — pg-boss
 * draining a backlog of empty jobs with one process's worth of workers (the same concurrency and
 * batch size the engine used to run on), first start → last completion by pg-boss's own clock.
 */
async function queueBaseline(): Promise<number> {
  const { database } = await benchDatabase('postgres');
  const queue = await Queue.start(database, { logger: createLogger('silent'), pollingIntervalSeconds: 0.5 });
  try {
    const name = 'bench_bare';
    await queue.ensureQueue({ name, retryLimit: 0, retryDelaySeconds: 0, retryBackoff: false, expireInSeconds: 60 });
    await queue.boss.insert(Array.from({ length: BACKLOG }, (_, i) => ({ name, data: { i } })));
    await queue.work(name, { concurrency: CONCURRENCY }, async () => {});
    for (;;) {
      const { rows } = await sql<{
        open: number;
      }>`select count(*)::int as open from pgboss.job where name = ${name} and state <> 'completed'`.execute(database.db);
      if (rows[0]!.open === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const { rows } = await sql<{ ms: number }>`
      select extract(epoch from max(completed_on) - min(started_on)) * 1000 as ms from pgboss.job where name = ${name}
    `.execute(database.db);
    const ms = Number(rows[0]!.ms);
    console.log(
      `[postgres] baseline: pg-boss alone drained ${BACKLOG} empty jobs in ${Math.round(ms)} ms = ${rate(BACKLOG, ms)} (1 process × ${CONCURRENCY})`,
    );
    return (BACKLOG / ms) * 1000;
  } finally {
    await queue.stop();
    await database.close();
  }
}

/**
 * Requests/s with the simulated driver at zero delay, 1 vs 2 worker processes, beside pg-boss's bare
 * job throughput; database round trips per request (counted by the workers); commit → start latency.
 */
export const provisioningBench: Bench = {
  name: 'provisioning',
  async run() {
    const baseline = await queueBaseline();
    const rates: number[] = [];
    for (const processes of [1, 2]) {
      const { database, provider } = await benchDatabase('postgres');
      // The backlog exists before the workers start, so the rate is the workers' own, not the creator's.
      let ids: number[] = [];
      for (let batch = 0; batch < BACKLOG / 100; batch++) ids = await newCustomers(database, provider, 100);
      const workers = await startWorkers(processes, database.url!);
      try {
        const busy = machineBusy();
        await waitDone(database, ids.at(-1)!);
        const busyShare = busy();
        const trips = (await Promise.all(workers.map(roundTrips))).reduce((a, b) => a + b, 0);
        const span = await database.db
          .selectFrom('provisioning_requests')
          .select([(eb) => eb.fn.min('started_at').as('first'), (eb) => eb.fn.max('finished_at').as('last')])
          .where('id', '<=', ids.at(-1)!)
          .executeTakeFirstOrThrow();
        const ms = new Date(span.last as Date).getTime() - new Date(span.first as Date).getTime();
        const perSecond = (BACKLOG / ms) * 1000;
        rates.push(perSecond);
        console.log(
          `[postgres] ${processes} worker process(es) × ${CONCURRENCY}: a backlog of ${BACKLOG} requests drained in ${Math.round(ms)} ms = ${rate(BACKLOG, ms)} (first start → last finish), ${ratio(perSecond, baseline)} the baseline${processes > 1 ? `, ${ratio(perSecond, rates[0]!)} one process` : ''}${busyShare === undefined ? '' : `; the machine's CPUs were ${Math.round(busyShare * 100)}% busy during the drain`}`,
        );
        console.log(
          `[postgres] ${processes} worker process(es): ${(trips / BACKLOG).toFixed(1)} database round trips per request (${trips} in all, start-up included)`,
        );

        const latencies: number[] = [];
        for (let i = 0; i < LATENCY_SAMPLES; i++) {
          const [id] = await newCustomers(database, provider, 1);
          const committed = Date.now();
          await waitDone(database, id!);
          const row = await database.db
            .selectFrom('provisioning_requests')
            .select('started_at')
            .where('id', '=', id!)
            .executeTakeFirstOrThrow();
          latencies.push(row.started_at!.getTime() - committed);
        }
        latencies.sort((a, b) => a - b);
        console.log(
          `[postgres] ${processes} worker process(es): queue latency commit → start p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${LATENCY_SAMPLES} single requests)`,
        );
      } finally {
        await stopWorkers(workers);
        await database.close();
      }
    }
  },
};
