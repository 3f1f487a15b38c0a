import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { PGliteDialect } from './pglite-dialect.js';
import type { Tables } from './tables.js';

export type DB = Kysely<Tables>;
export type Tx = Transaction<Tables>;
/** Either the database or an open transaction: query helpers accept both. */
export type Executor = Kysely<Tables>;

export const PGLITE_VERSION = '0.5.16';

/** Raw SQL access for libraries that bring their own SQL (pg-boss). */
export interface RawSql {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  /** Parameterless, possibly multi-statement SQL; returns the rows of the last statement. */
  exec(text: string): Promise<{ rows: any[] }>;
  /** LISTEN on a channel (notifications arrive after the sender's commit); resolves to an unlisten function. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

export interface Database {
  db: DB;
  engine: 'pglite' | 'postgres';
  raw: RawSql;
  /** PostgreSQL connection string when on a server (pg-boss opens its own pool). */
  url: string | undefined;
  close(): Promise<void>;
  /**
   * Embedded only: a number that changes whenever a write commits. Undefined on a server,
   * where other processes write too and no in-process counter can tell.
   */
  writeClock?: () => number;
  /** Embedded only: the whole data directory as a tarball (backups, test templates). */
  dump?(compression?: 'none' | 'gzip'): Promise<Blob>;
}

export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}

// int8 (count(*), bigint ids) as number on both engines; numeric stays string for exact money.
const parseInt8 = (value: string): number => Number(value);
pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8);

export async function openDatabase(opts: { url?: string; dataDir?: string; memory?: boolean; loadDataDir?: Blob }): Promise<Database> {
  if (opts.url) return openServer(opts.url);
  return openEmbedded(opts);
}

async function openServer(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: withDefaultUser(url), max: 10, options: '-c TimeZone=UTC' });
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new DatabaseOpenError(`cannot connect to DATABASE_URL: ${(e as Error).message}`);
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  return {
    db,
    engine: 'postgres',
    url,
    raw: {
      query: (text, values) => pool.query(text, values as unknown[]),
      exec: async (text) => {
        const result = (await pool.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        return { rows: Array.isArray(result) ? result.at(-1)?.rows ?? [] : result.rows };
      },
      listen: (channel, onNotify) => listenOnServer(url, channel, onNotify),
    },
    close: () => db.destroy(),
  };
}

async function openEmbedded(opts: { dataDir?: string; memory?: boolean; loadDataDir?: Blob }): Promise<Database> {
  let releaseLock = (): void => {};
  let dataDir: string | undefined;
  if (!opts.memory) {
    if (!opts.dataDir) throw new DatabaseOpenError('embedded database needs a data directory');
    fs.mkdirSync(opts.dataDir, { recursive: true });
    releaseLock = takeLock(opts.dataDir);
    dataDir = path.join(opts.dataDir, 'pglite');
    checkEngineVersion(opts.dataDir, dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
      parsers: { [pgliteTypes.INT8]: parseInt8 },
    });
    await pglite.exec(`SET TimeZone = 'UTC'`);
  } catch (e) {
    releaseLock();
    throw new DatabaseOpenError(`cannot open the embedded database: ${(e as Error).message}`);
  }
  if (opts.dataDir) fs.writeFileSync(path.join(opts.dataDir, 'ENGINE'), `pglite ${PGLITE_VERSION}\n`);
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Tables>({ dialect });
  return {
    db,
    engine: 'pglite',
    url: undefined,
    raw: {
      query: (text, values) => (values && values.length ? pglite.query(text, values) : pglite.query(text)),
      exec: async (text) => ({ rows: (await pglite.exec(text)).at(-1)?.rows ?? [] }),
      listen: async (channel, onNotify) => {
        const unlisten = await pglite.listen(channel, () => onNotify());
        return () => unlisten();
      },
    },
    writeClock: () => dialect.clock.value,
    dump: (compression = 'none') => pglite.dumpDataDir(compression),
    close: async () => {
      await db.destroy();
      await pglite.close();
      releaseLock();
    },
  };
}

/** A dedicated connection for LISTEN: pooled connections are handed to other queries between uses. */
async function listenOnServer(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: withDefaultUser(url) });
  await client.connect();
  client.on('notification', () => onNotify());
  // A dropped LISTEN connection only costs latency (workers still poll): never crash the process for it.
  client.on('error', () => {});
  await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
  return () => client.end();
}

/** libpq falls back to the OS user when the URL names none; node-pg needs $USER, which services often lack. */
export function withDefaultUser(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username) parsed.username = encodeURIComponent(process.env.PGUSER || os.userInfo().username);
  return parsed.toString();
}

/** PGlite data directories are not portable across PGlite versions: refuse a mismatch clearly. */
function checkEngineVersion(root: string, pgDir: string): void {
  const marker = path.join(root, 'ENGINE');
  if (!fs.existsSync(pgDir) || !fs.existsSync(marker)) return;
  const recorded = fs.readFileSync(marker, 'utf8').trim();
  if (recorded !== `pglite ${PGLITE_VERSION}`) {
    throw new DatabaseOpenError(
      `the data directory ${root} was written by ${recorded}; this build uses pglite ${PGLITE_VERSION}. ` +
        'Dump it with the old version and restore it, or point TENANTRY_DATA_DIR elsewhere.',
    );
  }
}

/** PGlite has no cross-process locking: one process per data directory, enforced by a lockfile. */
function takeLock(dir: string): () => void {
  const file = path.join(dir, 'tenantry.lock');
  const tryCreate = (): boolean => {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  };
  if (!tryCreate()) {
    const holder = Number(fs.readFileSync(file, 'utf8'));
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new DatabaseOpenError(
        `the embedded database in ${dir} is in use by process ${holder}; ` +
          'stop it first, or use DATABASE_URL=postgres://… to run several processes',
      );
    }
    fs.rmSync(file, { force: true });
    if (!tryCreate()) throw new DatabaseOpenError(`could not lock ${dir}`);
  }
  return () => fs.rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run fn in one transaction (every multi-row write goes through here). */
export function inTransaction<T>(db: DB, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}
