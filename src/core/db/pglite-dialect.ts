import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises';
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import { currentDeadline, requestTimedOut } from '../request-context.js';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/*
 * PGlite has a single session. A Kysely transaction must therefore run inside
 * pglite.transaction(), which holds PGlite's transaction lock: any other query from
 * elsewhere in the process waits until the transaction ends instead of silently
 * running inside it (stack-notes.md).
 */

/**
 * Counts committed writes. Every domain write of an embedded install goes through this one
 * in-process PGlite, so "no change since" is exact here: read caches key on it.
 */
export class WriteClock {
  value = 0;
  tick(): void {
    this.value++;
  }
}

/**
 * Past its HTTP request's deadline, no statement of the request starts and its transaction does not
 * commit. PGlite runs in this thread and has no statement_timeout or cancel (measured: it ignores
 * the setting), so a statement already running finishes first; the request was answered at its
 * deadline all the same, and its transaction then rolls back whole.
 */
function refuseAfterDeadline(): void {
  if (currentDeadline()?.aborted) throw requestTimedOut();
}

/**
 * PGlite runs each statement in this thread and settles its promise at once, so a loop of awaited
 * statements (a billing run, a bulk load, a large FIND) is one chain of microtasks: timers, sockets,
 * other requests and deadlines wait for all of it; a loaded machine turned such chains into minute-long
 * stalls. A statement that comes after a slice of this length first lets the event loop turn once.
 */
const SLICE_MS = 50;
let sliceStartedAt: number | undefined;

async function shareTheThread(): Promise<void> {
  const now = performance.now();
  if (sliceStartedAt === undefined) {
    sliceStartedAt = now;
    // Any turn of the event loop, ours or a natural one, ends the slice.
    setImmediate(() => (sliceStartedAt = undefined));
    return;
  }
  if (now - sliceStartedAt >= SLICE_MS) await turnOfTheEventLoop();
}

const READ_ONLY = /^\s*(select|show|fetch|declare|close)\b/i;

interface OpenTransaction {
  tx: PGliteTransaction;
  finish: (commit: boolean) => void;
  done: Promise<unknown>;
}

class PGliteConnection implements DatabaseConnection {
  private open: OpenTransaction | undefined;

  constructor(
    private readonly pglite: PGlite,
    private readonly clock: WriteClock,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    await shareTheThread();
    refuseAfterDeadline();
    const target = this.open?.tx ?? this.pglite;
    if (!this.open && !READ_ONLY.test(compiled.sql)) this.clock.tick();
    // Parameterless SQL goes through the simple protocol so migrations may hold several statements.
    const result =
      compiled.parameters.length === 0
        ? ((await target.exec(compiled.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : await target.query<R>(compiled.sql, compiled.parameters as unknown[]);
    const affected = result.affectedRows;
    return {
      rows: result.rows as R[],
      ...(affected !== undefined && /^\s*(insert|update|delete|merge)/i.test(compiled.sql) ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 1000): AsyncIterableIterator<QueryResult<R>> {
    // No server-side streaming in PGlite: a cursor fetched in chunks keeps memory flat.
    const ownTransaction = this.open === undefined;
    if (ownTransaction) await this.begin();
    const tx = this.open!.tx;
    const cursor = `kysely_stream_${Math.random().toString(36).slice(2)}`;
    let failed = false;
    try {
      await tx.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${compiled.sql}`, compiled.parameters as unknown[]);
      for (;;) {
        await shareTheThread();
        refuseAfterDeadline();
        const chunk = await tx.query<R>(`FETCH ${Math.max(1, chunkSize)} FROM ${cursor}`);
        if (chunk.rows.length === 0) break;
        yield { rows: chunk.rows };
      }
      await tx.query(`CLOSE ${cursor}`);
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      if (ownTransaction) await this.end(!failed);
    }
  }

  async begin(): Promise<void> {
    if (this.open) throw new Error('PGlite connection already has an open transaction');
    let ready!: (tx: PGliteTransaction) => void;
    const started = new Promise<PGliteTransaction>((resolve) => (ready = resolve));
    let finish!: (commit: boolean) => void;
    const decision = new Promise<boolean>((resolve) => (finish = resolve));
    const done = this.pglite
      .transaction(async (tx) => {
        ready(tx);
        if (!(await decision)) await tx.rollback();
      })
      .catch((e) => e);
    const tx = await Promise.race([started, done.then((e) => Promise.reject(e))]);
    this.open = { tx, finish, done };
  }

  async end(commit: boolean): Promise<void> {
    const open = this.open;
    if (!open) throw new Error('no open PGlite transaction');
    this.open = undefined;
    open.finish(commit);
    const outcome = await open.done;
    if (commit) this.clock.tick();
    if (outcome instanceof Error && commit) throw outcome;
  }
}

class PGliteDriver implements Driver {
  constructor(
    private readonly pglite: PGlite,
    private readonly clock: WriteClock,
  ) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.pglite, this.clock);
  }
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await (connection as PGliteConnection).begin();
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // Kysely rolls back when the commit throws.
    refuseAfterDeadline();
    await (connection as PGliteConnection).end(true);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PGliteConnection).end(false);
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

export class PGliteDialect implements Dialect {
  constructor(
    private readonly pglite: PGlite,
    readonly clock = new WriteClock(),
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite, this.clock);
  }
  // Kysely's Dialect interface takes any database.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}
