import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { serverPool, withDefaultUser } from './database.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/test-db.js';
import { TEST_ENGINE } from '../../../test/support/engine.js';

// Only a server ends connections on its own; the embedded database has none.
describe.skipIf(TEST_ENGINE !== 'postgres')('a connection the server ends while it is idle', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(() => t.close());

  it('is dropped and replaced: no uncaught error, and the next query runs on a new connection', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const pool = serverPool({ connectionString: withDefaultUser(t.url!), max: 2 });
    try {
      const pidOf = async () => (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const first = await pidOf();
      // The connection is idle in the pool now; the server ends it, as a restart or an operator would.
      const removed = new Promise((resolve) => pool.once('remove', resolve));
      const admin = new pg.Client({ connectionString: withDefaultUser(t.url!) });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend($1)', [first]);
      } finally {
        await admin.end();
      }
      await removed;
      expect(uncaught).toEqual([]);
      expect(pool.totalCount).toBe(0);
      expect(await pidOf()).not.toBe(first);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
  });
});
