import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaultUser } from '../../src/core/db/database.js';
import { TEST_ENGINE } from '../support/engine.js';
import { until } from '../jobs/worker-processes.js';
import { cortexErrorId, cortexRequest, envelopeOf, openReliabilityApp, type ReliabilityApp } from './support.js';

/**
 * Every request's work is bounded (issue 10 §1/§2): a handler still working at its limit is
 * answered with a time-out and its database work is cancelled. The slow work is real: the request's
 * own statements wait behind locks this test holds (on PostgreSQL an exclusive table lock from
 * another session; on the embedded engine an open transaction, which every other statement waits
 * for), so they outlast any limit however fast or loaded the machine is. No sleeps: the answer
 * arrives at the deadline while the lock is still held.
 */
const LIMIT_SECONDS = 2;
let r: ReliabilityApp;

/** Holds the customers and billing tables until `release` is called. */
async function blockDatabase(): Promise<{ release: () => Promise<void>; waiting: () => Promise<number> }> {
  if (TEST_ENGINE === 'postgres') {
    const holder = new pg.Client({ connectionString: withDefaultUser(r.t.url!) });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table customers, bill_periods in access exclusive mode');
    return {
      release: async () => {
        await holder.query('rollback');
        await holder.end();
      },
      waiting: async () =>
        Number(
          (
            await holder.query(
              `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
            )
          ).rows[0].n,
        ),
    };
  }
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held = r.t.db.transaction().execute(async () => {
    open();
    await gate;
  });
  await opened;
  return {
    release: async () => {
      release();
      await held;
    },
    waiting: async () => 0,
  };
}

beforeAll(async () => {
  r = await openReliabilityApp({ handlerTimeoutSeconds: LIMIT_SECONDS }, 2);
});
afterAll(async () => r?.close());

describe(`a request still working after ${LIMIT_SECONDS} s (TENANTRY_HANDLER_TIMEOUT_SECONDS) is answered and its work stopped`, () => {
  it('CortexAPI SET: error XML (HTTP 503, error 0), the waiting statement cancelled, nothing changed', async () => {
    const name = r.tenant.customer.name;
    const block = await blockDatabase();
    const started = Date.now();
    const res = await r.cortex(cortexRequest('SET', `<customer><name>${name}</name><fullname>Changed Too Late</fullname></customer>`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMIT_SECONDS * 1000 - 50);
    expect({ status: res.statusCode, id: cortexErrorId(res) }, res.body.slice(0, 300)).toEqual({ status: 503, id: 0 });
    expect(res.body).toContain('took longer than the server allows');
    // PostgreSQL: the statement that waited is cancelled on the server (pg_cancel_backend) while the lock is still held.
    if (TEST_ENGINE === 'postgres') await until('the timed-out statement to be cancelled', async () => (await block.waiting()) === 0);
    await block.release();
    const get = await r.cortex(cortexRequest('GET', `<customer><name>${name}</name></customer>`));
    expect(get.statusCode).toBe(200);
    expect(get.body).not.toContain('Changed Too Late');
    expect(get.body).toContain('<fullname>Flood Test Ltd</fullname>');
  });

  it('External REST API: the envelope with HTTP 503', async () => {
    const block = await blockDatabase();
    const res = await r.rest('/api/billing/Current');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(503);
    expect(envelopeOf(res)).toMatchObject({ success: false, errorMessage: expect.stringContaining('took longer') });
    if (TEST_ENGINE === 'postgres') await until('the timed-out statement to be cancelled', async () => (await block.waiting()) === 0);
    await block.release();
    expect((await r.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
