import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { systemCaller } from '../../src/tenancy/caller.js';
import { createCustomer } from '../../src/tenancy/customer.service.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { settle, startEngine } from './support.js';

let t: TestContext;
const engines: ProvisioningEngine[] = [];

beforeAll(async () => {
  t = await openTestContext();
});
afterAll(async () => {
  for (const e of engines) await e.stop();
  await t?.close();
});

describe('two workers', () => {
  // Waits on the requests settling, not on a time budget: a loaded 2-core machine only makes it slower.
  it('run each of 1,000 requests exactly once', async () => {
    const caller = systemCaller(t.provider);
    const ids: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await inTransaction(t.db, async (tx) => {
        for (let i = 0; i < 100; i++) {
          const n = batch * 100 + i;
          const { requestId } = await createCustomer(tx, caller, {
            name: `C${n}`,
            fullname: `Customer ${n}`,
            contactName: 'c',
            contactEmail: 'c@c.example',
            primaryDomain: `c${n}.example`,
          });
          ids.push(requestId);
        }
      });
    }
    // Started after the backlog exists, so both workers compete for every request.
    engines.push(await startEngine(t.ctx, { concurrency: 2 }), await startEngine(t.ctx, { concurrency: 2 }));
    const rows = await settle(t.db, ids, 840_000);
    expect(rows.filter((r) => r.status !== 'Provisioned')).toEqual([]);
    expect(rows.filter((r) => r.attempts !== 1).map((r) => r.id)).toEqual([]);
    const done = await t.db
      .selectFrom('request_log')
      .select(['request_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('message', 'like', 'Simulated provisioning: % done after%')
      .where('request_id', 'in', ids)
      .groupBy('request_id')
      .execute();
    expect(done).toHaveLength(1000);
    expect(done.filter((d) => Number(d.n) !== 1)).toEqual([]);
    const byWorker = await t.db
      .selectFrom('request_log')
      .select(['message', (eb) => eb.fn.countAll<number>().as('n')])
      .where('message', 'like', 'Attempt 1 of % on worker %')
      .where('request_id', 'in', ids)
      .groupBy('message')
      .execute();
    expect(byWorker.map((w) => w.message.replace(/.* on worker /, '')).sort()).toEqual(engines.map((e) => e.workerId).sort());
    expect(byWorker.reduce((sum, w) => sum + Number(w.n), 0)).toBe(1000);
    // 1,000 requests take ~25 s on PGlite on two idle cores; the settle deadline, not this, bounds it.
  }, 900_000);
});
