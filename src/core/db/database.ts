import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import Cursor from 'pg-cursor';
import {
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  type Transaction,
} from 'kysely';
import { currentDeadline, requestTimedOut } from '../request-context.js';
import { PGliteDialect } from './pglite-dialect.js';
import { preparingPool } from './prepared-statements.js';
import { copyOutPool, type CopyOut } from './copy-out.js';
import type { Tables } from './tables.js';

export type DB = Kysely<Tables>;
export type Tx = Transaction<Tables>;
/** Either the database or an open transaction: query helpers accept both. */
export type Executor = Kysely<Tables>;

export const PGLITE_VERSION = '0.5.16';

/** Raw SQL access for libraries that bring their own SQL (pg-boss). */
// Rows of libraries' own SQL (pg-boss) are whatever their statements select.
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface RawSql {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  /** Parameterless, possibly multi-statement SQL; returns the rows of the last statement. */
  exec(text: string): Promise<{ rows: any[] }>;
  /**
   * LISTEN on a channel (notifications arrive after the sender's commit, with their payload); resolves to an
   * unlisten function. A dropped connection is opened again; `onReconnect` is then called, because
   * notifications sent while it was down are lost.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

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
  /** Server only: a select's rows as `COPY … TO STDOUT` sends them (large downloads). */
  copyOut?: CopyOut;
}

/** Downloads streamed by COPY at once; more read the ordinary way (see copy-out.ts). */
const COPY_CONNECTIONS = 4;

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

/**
 * A pool of connections to the server. A connection the server ends while it sits idle in the pool
 * (a server restart, `pg_terminate_backend`, an idle timeout) makes the pool emit 'error'; with no
 * listener that is an uncaught exception and the whole process went down. The pool has already
 * dropped that connection and opens another on the next use, and a real outage shows in the next
 * query's error, so the event itself needs no action.
 */
export function serverPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  return pool;
}

async function openServer(url: string): Promise<Database> {
  const pool = serverPool({ connectionString: withDefaultUser(url), max: 10, options: '-c TimeZone=UTC' });
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new DatabaseOpenError(`cannot connect to DATABASE_URL: ${(e as Error).message}`);
  }
  const canceller = serverPool({ connectionString: withDefaultUser(url), max: 1 });
  const copies = serverPool({ connectionString: withDefaultUser(url), max: COPY_CONNECTIONS, options: '-c TimeZone=UTC' });
  const db = new Kysely<Tables>({
    dialect: new PostgresDialect({ pool: new DeadlinePool(preparingPool(pool), canceller), cursor: Cursor }),
  });
  return {
    db,
    engine: 'postgres',
    url,
    raw: {
      query: (text, values) => pool.query(text, values as unknown[]),
      exec: async (text) => {
        const result = (await pool.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        return { rows: Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows };
      },
      listen: (channel, onNotify, onReconnect) => listenOnServer(url, channel, onNotify, onReconnect),
    },
    copyOut: copyOutPool(copies),
    close: async () => {
      await db.destroy();
      await canceller.end();
      await copies.end();
    },
  };
}

/**
 * The pool as Kysely sees it: a query run for an HTTP request obeys the request's deadline. Past
 * it, no statement starts (a COMMIT neither: the transaction rolls back), and one still running is
 * cancelled on the server with pg_cancel_backend, sent over a connection of its own (the main pool
 * may be full of the very queries to cancel).
 */
class DeadlinePool implements PostgresPool {
  constructor(
    private readonly pool: PostgresPool,
    private readonly canceller: pg.Pool,
  ) {}
  async connect(): Promise<PostgresPoolClient> {
    return new DeadlineClient(await this.pool.connect(), this.canceller);
  }
  end(): Promise<void> {
    return this.pool.end();
  }
}

class DeadlineClient implements PostgresPoolClient {
  constructor(
    private readonly client: PostgresPoolClient,
    private readonly canceller: pg.Pool,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // A cursor streams an answer already being sent: the stream's own limit ends it.
    if (typeof sqlOrCursor !== 'string') return this.client.query(sqlOrCursor);
    const run = () => this.client.query<R>(sqlOrCursor, parameters ?? []);
    const deadline = currentDeadline();
    if (!deadline) return run();
    if (deadline.aborted && !/^\s*rollback\b/i.test(sqlOrCursor)) return Promise.reject(requestTimedOut());
    return this.#cancelledAt(deadline, run);
  }

  async #cancelledAt<T>(deadline: AbortSignal, run: () => Promise<T>): Promise<T> {
    const pid = (this.client as unknown as { processID: number }).processID;
    let cancelling: Promise<unknown> | undefined;
    const cancel = () => (cancelling = this.canceller.query('select pg_cancel_backend($1)', [pid]).catch(() => undefined));
    deadline.addEventListener('abort', cancel, { once: true });
    try {
      return await run();
    } catch (e) {
      throw deadline.aborted ? requestTimedOut() : e;
    } finally {
      deadline.removeEventListener('abort', cancel);
      // Keep the connection until the cancel has landed, so it can never reach the next user's query.
      await cancelling;
    }
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }
}

/**
 * Connections of their own for work that may lose its last commits in a server crash because it
 * repeats them (the provisioning engine): on a server, a pool whose commits do not wait for the WAL
 * flush (`synchronous_commit = off`; a killed client loses nothing) and which prepares the
 * statements it sends again and again, as the main pool does: the engine's step statements are
 * long, and parsing and planning them anew was half the server's time per request. Embedded PGlite
 * dies with its process, so there it is the database itself and every commit is flushed.
 */
export function openRelaxedPool(database: Database, max: number): { db: DB; close(): Promise<void> } {
  if (database.engine !== 'postgres') return { db: database.db, close: async () => {} };
  const pool = serverPool({
    connectionString: withDefaultUser(database.url!),
    max,
    options: '-c TimeZone=UTC -c synchronous_commit=off',
  });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  return { db, close: () => db.destroy() };
}

/**
 * A migrated, empty embedded database made by `npm run build` (dist/template.tar, see template.ts);
 * for the sources, src/template.tar is written by the test setup.
 * A new data directory starts from it instead of running initdb and every migration, which costs
 * seconds on a small machine; the build writes it with the same code and PGlite version.
 */
export const TEMPLATE_URL = new URL('../../template.tar', import.meta.url);

function embeddedTemplate(): Blob | undefined {
  const file = fileURLToPath(TEMPLATE_URL);
  return fs.existsSync(file) ? new Blob([fs.readFileSync(file)]) : undefined;
}

async function openEmbedded(opts: { dataDir?: string; memory?: boolean; loadDataDir?: Blob }): Promise<Database> {
  let releaseLock = (): void => {};
  let dataDir: string | undefined;
  if (!opts.memory) {
    if (!opts.dataDir) throw new DatabaseOpenError('embedded database needs a data directory');
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    ownerOnlyFiles(opts.dataDir);
    releaseLock = takeLock(opts.dataDir);
    dataDir = path.join(opts.dataDir, 'pglite');
    checkEngineVersion(opts.dataDir, dataDir);
  }
  const loadDataDir = opts.loadDataDir ?? (dataDir && !fs.existsSync(dataDir) ? embeddedTemplate() : undefined);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(loadDataDir ? { loadDataDir } : {}),
      parsers: { [pgliteTypes.INT8]: parseInt8 },
    });
    await pglite.exec(`SET TimeZone = 'UTC'`);
    if (opts.dataDir) ownerOnlyFiles(opts.dataDir);
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
        const unlisten = await pglite.listen(channel, (payload) => onNotify(payload));
        return () => unlisten();
      },
    },
    writeClock: () => dialect.clock.value,
    // A dump taken while the server works holds every commit and nothing half-done:
    // Inside PGlite's transaction lock (no other transaction is half-way) and after a checkpoint.
    dump: (compression = 'none') =>
      pglite.transaction(async (tx) => {
        await tx.exec('CHECKPOINT');
        return pglite.dumpDataDir(compression);
      }),
    close: async () => {
      await db.destroy();
      await pglite.close();
      if (opts.dataDir) ownerOnlyFiles(opts.dataDir);
      releaseLock();
    },
  };
}

/**
 * The data directory holds password hashes and the secrets key: owner-only whatever the umask the
 * process was started with (issue 16). PGlite creates its files 0666 regardless of the umask, so
 * the walk runs at open (after PGlite's own files exist) and at close; while the process runs, the
 * 0700 directories keep every other user out of files PGlite adds (new WAL segments).
 */
export function ownerOnlyFiles(root: string): void {
  try {
    process.umask(process.umask() | 0o077);
  } catch {
    // Worker threads cannot change the umask; the walk below still fixes the directory at each open.
  }
  const walk = (dir: string): void => {
    fs.chmodSync(dir, 0o700);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) fs.chmodSync(full, 0o600);
    }
  };
  walk(root);
}

/** A dedicated connection for LISTEN: pooled connections are handed to other queries between uses. */
const RELISTEN_FIRST_MS = 100;
const RELISTEN_MAX_MS = 5_000;

/**
 * One connection that LISTENs, opened again (with a growing pause) whenever it drops: a restarted
 * server, a failover or pg_terminate_backend must not silence the channel for the process's life.
 */
async function listenOnServer(
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onReconnect?: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const open = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: withDefaultUser(url) });
    client.on('notification', (msg) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    });
    // The error is followed by 'end', which reconnects: never crash the process for it.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    client.on('end', () => {
      if (!stopped && current === client) reopen(RELISTEN_FIRST_MS);
    });
    return client;
  };
  const reopen = (delayMs: number) => {
    retry = setTimeout(() => {
      open().then(
        async (client) => {
          if (stopped) return client.end();
          current = client;
          onReconnect?.();
        },
        () => {
          if (!stopped) reopen(Math.min(delayMs * 2, RELISTEN_MAX_MS));
        },
      );
    }, delayMs);
    retry.unref();
  };
  let current: pg.Client = await open();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await current.end().catch(() => {});
  };
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

/** Data directories this process has open: a second PGlite on one directory would corrupt it. */
const openHere = new Set<string>();

/** PGlite has no cross-process locking: one process per data directory, enforced by a lockfile. */
function takeLock(dir: string): () => void {
  const file = path.join(dir, 'tenantry.lock');
  const key = path.resolve(dir);
  if (openHere.has(key)) throw new DatabaseOpenError(`the embedded database in ${dir} is already open in this process`);
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
  openHere.add(key);
  return () => {
    openHere.delete(key);
    fs.rmSync(file, { force: true });
  };
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
