import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { serverPool, withDefaultUser } from './database.js';
import { copyOutPool, withLiterals, type CopyOut } from './copy-out.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/test-db.js';
import { TEST_ENGINE } from '../../../test/support/engine.js';

describe('withLiterals', () => {
  it('writes each placeholder as its quoted value and leaves quoted text alone', () => {
    const text = withLiterals({
      sql: `select $1::int, '$2 it''s', "a$3", $2 || 'x', $3, $4, $5, $10`,
      parameters: [5, "O'Brien \\ 100%", new Date('2024-06-30T23:59:59.999Z'), null, -2, 0, 0, 0, 0, true],
    });
    expect(text).toBe(`select (5)::int, '$2 it''s', "a$3",  E'O''Brien \\\\ 100%' || 'x', '2024-06-30T23:59:59.999Z', null, (-2), true`);
  });

  it('refuses a value it cannot write as a literal', () => {
    expect(() => withLiterals({ sql: 'select $1', parameters: [{ a: 1 }] })).toThrow(/no literal/);
    expect(() => withLiterals({ sql: 'select $1', parameters: [Number.NaN] })).toThrow(/no literal/);
  });
});

// COPY … TO STDOUT is a server's; the embedded database reads the ordinary way.
describe.skipIf(TEST_ENGINE !== 'postgres')('copyOutPool', () => {
  let t: TestDatabase;
  let pool: pg.Pool;
  let copyOut: CopyOut;
  const APP = 'tenantry-copy-out-test';
  const series = (n: number) => ({ sql: 'select g, $1::text from generate_series(1, $2) g', parameters: ["it's", n] });
  const read = async (copied: AsyncIterable<Buffer>) => {
    const pieces: Buffer[] = [];
    for await (const piece of copied) pieces.push(piece);
    return Buffer.concat(pieces).toString('utf8');
  };
  /** Copies the server is still running for this test's pool. */
  const copiesRunning = async () => {
    const { rows } = await t.database.raw.query(
      `select count(*)::int as n from pg_stat_activity where application_name = $1 and query like 'COPY%'`,
      [APP],
    );
    return rows[0].n as number;
  };
  const untilNoCopyRuns = async () => {
    while ((await copiesRunning()) > 0) await sleep(20);
  };

  beforeAll(async () => {
    t = await openTestDatabase();
    pool = serverPool({ connectionString: withDefaultUser(t.url!), max: 1, application_name: APP });
    copyOut = copyOutPool(pool);
  });
  afterAll(async () => {
    await pool.end();
    await t.close();
  });

  it('streams the rows as COPY writes them, with the parameters as literals', async () => {
    expect(await read(copyOut(series(3), '')!)).toBe("1\tit's\n2\tit's\n3\tit's\n");
  });

  it('runs at most its connections at once and answers undefined beyond them, until one is free again', async () => {
    const first = copyOut(series(1_000_000), '')![Symbol.asyncIterator]();
    expect((await first.next()).done).toBe(false);
    expect(copyOut(series(1), '')).toBeUndefined();
    await first.return?.(undefined);
    expect(await read(copyOut(series(1), '')!)).toBe("1\tit's\n");
  });

  it('ends the copy on the server when the reader stops half way, and gives the connection back', async () => {
    const copied = copyOut(series(1_000_000), '')![Symbol.asyncIterator]();
    expect((await copied.next()).done).toBe(false);
    expect(await copiesRunning()).toBe(1);
    await copied.return?.(undefined);
    await untilNoCopyRuns();
    expect(await read(copyOut(series(2), '')!)).toBe("1\tit's\n2\tit's\n");
  });

  it('stops with a time-out when its signal aborts', async () => {
    const deadline = new AbortController();
    const copied = copyOut(series(1_000_000), '', deadline.signal)![Symbol.asyncIterator]();
    expect((await copied.next()).done).toBe(false);
    deadline.abort();
    await expect(
      (async () => {
        for (let piece = await copied.next(); !piece.done; piece = await copied.next());
      })(),
    ).rejects.toMatchObject({ code: 'TimedOut' });
    await untilNoCopyRuns();
    expect(await read(copyOut(series(1), '')!)).toBe("1\tit's\n");
  });

  it("reports the server's error and frees the connection", async () => {
    const failing = { sql: 'select 1 / (g - $1) from generate_series(1, 100000) g', parameters: [50_000] };
    await expect(read(copyOut(failing, '')!)).rejects.toThrow(/division by zero/);
    expect(await read(copyOut(series(1), '')!)).toBe("1\tit's\n");
  });
});
