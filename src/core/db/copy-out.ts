import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { requestTimedOut } from '../request-context.js';

/** A statement as Kysely compiles it: text with `$n` placeholders, and their values. */
export interface CompiledStatement {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * A select's rows as PostgreSQL's `COPY (select) TO STDOUT <options>` sends them: raw buffers off
 * the socket, with no row objects or strings on the JS heap, as fast as the reader takes them
 * (a paused reader stops the socket, and the server waits). Undefined when every connection kept
 * for copies is busy: the caller then reads the ordinary way. `signal` aborted stops the copy.
 * What it returns holds one of those connections until it is read to its end or stopped (`return`).
 */
export type CopyOut = (statement: CompiledStatement, options: string, signal?: AbortSignal) => AsyncIterable<Buffer> | undefined;

/**
 * Copies run on the pool's connections, at most its `max` at once: a pool of their own, so that
 * long downloads never take the main pool's connections from the requests they share the server with.
 */
export function copyOutPool(pool: pg.Pool): CopyOut {
  let copying = 0;
  return (statement, options, signal) => {
    if (copying >= pool.options.max) return undefined;
    copying++;
    return copied(pool, `COPY (${withLiterals(statement)}) TO STDOUT ${options}`, signal, () => copying--);
  };
}

async function* copied(pool: pg.Pool, text: string, signal: AbortSignal | undefined, done: () => void): AsyncGenerator<Buffer> {
  let whole = false;
  try {
    const client = await pool.connect();
    const stream = client.query(copyTo(text));
    const stop = () => stream.destroy(requestTimedOut());
    signal?.addEventListener('abort', stop, { once: true });
    try {
      if (signal?.aborted) stop();
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
      whole = true;
    } finally {
      signal?.removeEventListener('abort', stop);
      // A copy stopped half way (a dropped download, an error) leaves the connection mid-answer:
      // ending it with the query still active destroys its socket, and the server stops the copy.
      client.release(!whole);
    }
  } finally {
    done();
  }
}

/**
 * COPY takes no parameters: a compiled statement's `$n` placeholders written as literals. Only
 * placeholders outside quoted strings and identifiers are placeholders; values are quoted by the
 * driver's own `escapeLiteral`.
 */
export function withLiterals(statement: CompiledStatement): string {
  return statement.sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)/g, (text, n: string | undefined) =>
    n === undefined ? text : literal(statement.parameters[Number(n) - 1]),
  );
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return `(${value})`;
  if (typeof value === 'bigint') return `(${value})`;
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  throw new TypeError(`no literal for a ${typeof value} parameter`);
}
