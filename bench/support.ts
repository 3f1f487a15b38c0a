import pg from 'pg';
import { openDatabase, withDefaultUser, type Database } from '../src/core/db/database.js';
import { migrateToLatest } from '../src/core/db/migrate.js';
import { bootstrap } from '../src/tenancy/bootstrap.js';
import { getProvider, type Customer } from '../src/tenancy/customer.service.js';

export type BenchEngine = 'pglite' | 'postgres';
export const ENGINES: BenchEngine[] = ['pglite', 'postgres'];

let databases = 0;

/** The bootstrap admin's password in every benchmark database. */
export const BENCH_PASSWORD = 'Bench-Passw0rd!';

/**
 * A fresh database for a benchmark: PGlite in memory, or a database of its own on the server named
 * by BENCH_DATABASE_URL (default the local `test` database's server), dropped again on close — so
 * benchmarks never touch another run's or the test suite's data.
 */
export async function benchDatabase(
  engine: BenchEngine = 'pglite',
): Promise<{ database: Database; provider: Customer; engine: BenchEngine }> {
  let database: Database;
  if (engine === 'postgres') {
    const server = process.env.BENCH_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test';
    const name = `tenantry_bench_${process.pid}_${databases++}`;
    const admin = new pg.Client({ connectionString: withDefaultUser(server) });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const opened = await openDatabase({ url: url.toString() });
    database = {
      ...opened,
      close: async () => {
        await opened.close();
        await dropWhenUnused(admin, name);
        await admin.end();
      },
    };
  } else {
    database = await openDatabase({ memory: true });
  }
  await migrateToLatest(database.db);
  await bootstrap(database.db, { providerName: 'Service Provider', adminUser: 'admin', adminPassword: BENCH_PASSWORD });
  return { database, provider: (await getProvider(database.db))!, engine };
}

export function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

/** `figure` beside its `baseline` measured in the same run, as a ratio. */
export function ratio(figure: number, baseline: number): string {
  return `${(figure / baseline).toFixed(2)}×`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Drops a benchmark's database once its last connection has gone. Not `with (force)`: a pool
 * still closing would see its connection killed and raise an unhandled error.
 */
async function dropWhenUnused(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`drop database if exists ${name}`);
      return;
    } catch (error) {
      if (attempt === 50) {
        console.warn(`could not drop benchmark database ${name}: ${(error as Error).message}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Benches measure throughput, so the per-caller fair-use limits (0 = none) are off. */
export const BENCH_ENV = {
  TENANTRY_RATE_PER_USER: '0',
  TENANTRY_RATE_PER_CUSTOMER: '0',
  TENANTRY_MAX_CONCURRENT_PER_USER: '0',
  TENANTRY_MAX_CONCURRENT_PER_CUSTOMER: '0',
};
