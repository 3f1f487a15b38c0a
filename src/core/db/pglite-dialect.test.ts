import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { inTransaction, type DB } from './database.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/test-db.js';

/**
 * On the embedded engine a statement settles without a turn of the event loop; a loop of them must
 * still let timers and sockets run (on a server every statement waits for the socket anyway).
 */
describe('a long run of statements shares the thread', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(() => t.close());

  /** Runs statements until a timer set before the first has fired; how many it took, or Infinity. */
  async function statementsUntilTimerFires(db: DB): Promise<number> {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    for (let n = 1; n <= 20_000; n++) {
      await sql`select ${n}::int as n`.execute(db);
      if (fired) return n;
    }
    return Infinity;
  }

  it('lets a timer fire while one caller runs statement after statement', async () => {
    expect(await statementsUntilTimerFires(t.db)).toBeLessThan(Infinity);
  });

  it('also inside a transaction', async () => {
    expect(await inTransaction(t.db, (tx) => statementsUntilTimerFires(tx))).toBeLessThan(Infinity);
  });
});
