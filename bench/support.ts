import { openDatabase, type Database } from '../src/core/db/database.js';
import { migrateToLatest } from '../src/core/db/migrate.js';
import { bootstrap } from '../src/tenancy/bootstrap.js';
import { getProvider, type Customer } from '../src/tenancy/customer.service.js';

/** A fresh database for a benchmark: PGlite in memory, or BENCH_DATABASE_URL (a throwaway database on a server). */
export async function benchDatabase(engine: 'pglite' | 'postgres' = 'pglite'): Promise<{ database: Database; provider: Customer; engine: string }> {
  const url = engine === 'postgres' ? process.env.BENCH_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test' : undefined;
  const database = await openDatabase(url ? { url } : { memory: true });
  if (url) {
    await database.raw.exec('drop schema if exists public cascade; create schema public; drop schema if exists pgboss cascade');
  }
  await migrateToLatest(database.db);
  await bootstrap(database.db, { providerName: 'Service Provider', adminUser: 'admin', adminPassword: 'Bench-Passw0rd!' });
  return { database, provider: (await getProvider(database.db))!, engine: url ? 'postgres' : 'pglite' };
}

export function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
