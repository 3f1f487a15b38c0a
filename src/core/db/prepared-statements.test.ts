import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/support/test-db.js';
import { TEST_ENGINE } from '../../../test/support/engine.js';
import { openRelaxedPool } from './database.js';

// Prepared statements are a server connection pool's; the embedded database has no pool.
describe.skipIf(TEST_ENGINE !== 'postgres')('prepared statements on a PostgreSQL server', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    await sql`create table prepared_probe (id int primary key, label text not null)`.execute(t.db);
    await sql`insert into prepared_probe select g, 'row ' || g from generate_series(1, 10) g`.execute(t.db);
  });
  afterAll(() => t.close());

  const preparedOn = async (conn: typeof t.db, fragment: string) =>
    (await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement like ${`%${fragment}%`}`.execute(conn))
      .rows[0]!.n;

  it('prepares a statement sent again and again, and answers each call with its own parameters', async () => {
    await t.db.connection().execute(async (conn) => {
      const labels: string[] = [];
      for (let id = 1; id <= 6; id++) {
        const row = await conn
          .selectFrom('prepared_probe' as never)
          .select('label' as never)
          .where('id' as never, '=', id as never)
          .executeTakeFirstOrThrow();
        labels.push((row as { label: string }).label);
      }
      expect(labels).toEqual(['row 1', 'row 2', 'row 3', 'row 4', 'row 5', 'row 6']);
      expect(await preparedOn(conn, 'from "prepared_probe" where "id" = $1')).toBe(1);
    });
  });

  it('leaves a statement sent once unprepared', async () => {
    await t.db.connection().execute(async (conn) => {
      await sql`select label from prepared_probe where id = ${3} and label <> ${'once'}`.execute(conn);
      expect(await preparedOn(conn, `label <> $2`)).toBe(0);
    });
  });

  it("prepares the provisioning engine's hot statements too, on its own connections that do not wait for the WAL flush", async () => {
    const relaxed = openRelaxedPool(t.database, 1);
    try {
      // One connection: every statement below runs in the same server session.
      for (let id = 1; id <= 4; id++)
        await sql`select label from prepared_probe where id = ${id} and label <> ${'relaxed'}`.execute(relaxed.db);
      expect(await preparedOn(relaxed.db, `label <> $2`)).toBe(1);
      expect((await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(relaxed.db)).rows[0]!.synchronous_commit).toBe(
        'off',
      );
    } finally {
      await relaxed.close();
    }
  });

  it('after a schema change fails a prepared statement once, closes that connection and answers the next call', async () => {
    const select = (conn: typeof t.db) =>
      sql<{ id: number; extra?: string }>`select * from prepared_probe where id > ${8} order by id`.execute(conn);
    await t.db.connection().execute(async (conn) => {
      for (let i = 0; i < 5; i++) await select(conn);
      expect(await preparedOn(conn, 'select * from prepared_probe')).toBe(1);
      await sql`alter table prepared_probe add column extra text not null default 'x'`.execute(conn);
      await expect(select(conn)).rejects.toThrow(/cached plan must not change result type/);
    });
    // Every connection of the pool answers with the new column: none kept the outdated statement.
    const answers = await Promise.all(Array.from({ length: 10 }, () => select(t.db)));
    for (const answer of answers)
      expect(answer.rows).toEqual([
        { id: 9, label: 'row 9', extra: 'x' },
        { id: 10, label: 'row 10', extra: 'x' },
      ]);
  });
});
