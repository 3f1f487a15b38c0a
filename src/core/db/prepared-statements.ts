import type pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';

/** A statement is prepared once the process has sent its text this often. */
const HOT_AFTER = 3;
/** Texts whose uses are counted; past this the count starts again (one-off texts must not grow it forever). */
const MAX_COUNTED = 2_000;
/** Statements prepared at most (each costs every connection's server session a little memory). */
const MAX_PREPARED = 500;

/**
 * A pool whose connections prepare the statements the server sends again and again (a CortexAPI
 * GET's reads, the provisioning loop's): after a connection's first use of one, PostgreSQL parses
 * it no more and, once it settles on a generic plan, plans it no more either — about half the
 * server time of a short read — and the client sends only the name and the parameters.
 *
 * Only parameterised statements are prepared, after a few uses, so one-off texts (DDL,
 * migrations, generated lists) never are. A schema change that alters a prepared statement's
 * result columns (a newer process migrating) makes PostgreSQL refuse it once; that connection
 * is then closed instead of returned to the pool, so the next use prepares afresh.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const statements = new HotStatements();
  return {
    connect: async () => {
      const client = await pool.connect();
      // The pool sets a new release on each checkout.
      const release = client.release.bind(client);
      // Kysely passes false when it keeps the connection: a stale one is closed all the same.
      client.release = (error?: Error | boolean) => release(error || (client as PreparingClient)[STALE]);
      return preparing(client, statements);
    },
    end: () => pool.end(),
  };
}

class HotStatements {
  private readonly counts = new Map<string, number>();
  private readonly names = new Map<string, string>();

  /** The name `text` is prepared under, once it is hot. */
  nameOf(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined) return name;
    const count = (this.counts.get(text) ?? 0) + 1;
    if (count < HOT_AFTER || this.names.size >= MAX_PREPARED) {
      if (this.counts.size >= MAX_COUNTED) this.counts.clear();
      this.counts.set(text, count);
      return undefined;
    }
    this.counts.delete(text);
    const named = `tenantry_${this.names.size + 1}`;
    this.names.set(text, named);
    return named;
  }
}

const WRAPPED = Symbol('prepares hot statements');
const STALE = Symbol('holds a statement prepared before a schema change');

interface PreparingClient extends pg.PoolClient {
  [WRAPPED]?: true;
  [STALE]?: true;
}

function preparing(client: PreparingClient, statements: HotStatements): PostgresPoolClient {
  // The pool hands out the same clients again: each is wrapped once.
  if (!client[WRAPPED]) {
    client[WRAPPED] = true;
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
    // Only Kysely's (text, parameters) calls are named; cursors, config objects and the pool's own
    // callback-style calls (pool.query) pass through as they are.
    client.query = ((...args: unknown[]) => {
      const [text, values] = args as [unknown, unknown[] | undefined];
      const named = args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0;
      const name = named ? statements.nameOf(text) : undefined;
      if (name === undefined) return query(...args);
      return query({ name, text, values }).catch((error: { code?: string; routine?: string }) => {
        // "cached plan must not change result type"
        if (error.code === '0A000' && error.routine === 'RevalidateCachedQuery') client[STALE] = true;
        throw error;
      });
    }) as typeof client.query;
  }
  return client as unknown as PostgresPoolClient;
}
