import { describe, expect, it } from 'vitest';
import { demoJobs } from '../../src/demo/psa-demo.js';
import { TEST_ENGINE } from '../support/engine.js';
import { killMidSync, runToEnd, syncJob, usePsaKill } from './psa-kill.js';

/**
 * kill -9 of the server (`tenantry start`, running the job workers in-process) in the middle of a
 * ConnectWise sync, on PostgreSQL, with a `tenantry worker` taking over (psa-kill.ts); the PSA's
 * writes and additions are then counted.
 */
const isWrite = (r: { method: string }) => r.method !== 'GET';

describe.skipIf(TEST_ENGINE !== 'postgres')('kill -9 of the server mid ConnectWise sync, on one PostgreSQL', () => {
  const fixture = usePsaKill();

  /** Additions per agreement and product: a write applied twice would make one of them 2. */
  const additionCounts = () => {
    const { demo } = fixture();
    const counts = new Map<string, number>();
    for (const { connectwise } of demo.contracts.values())
      for (const a of demo.connectwise.state.additionsOf(connectwise)) {
        if (a.cancelledDate) continue;
        const key = `${connectwise}/${a.product.identifier ?? a.product.id}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    return counts;
  };

  it(
    'a write in flight when the server dies is not applied twice; the run is marked Failed and the next run converges',
    { timeout: 300_000 },
    async () => {
      const f = fixture();
      const { connectwise: sim } = f.demo;
      const jobId = await syncJob(f, demoJobs(f.demo)[1]!);
      const additionsBefore = additionCounts();
      // The first write the sync sends hangs: the server is killed while it waits for the answer.
      for (const method of ['POST', 'PATCH', 'PUT']) sim.injectFaults({ hang: true, match: { method } });
      await killMidSync(f, jobId, 'start', sim, isWrite);

      const writesBeforeNext = sim.requests.filter(isWrite).length;
      const done = await runToEnd(f, jobId);
      expect(done.status).toMatch(/Succeeded|CompletedWith/);
      const writesOfNext = sim.requests.filter(isWrite).length - writesBeforeNext;
      expect(writesOfNext).toBeGreaterThan(0);
      // Every agreement holds each product once (no addition created twice), at the billed quantity.
      const after = additionCounts();
      expect([...after.values()].every((n) => n === 1)).toBe(true);
      expect(after.size).toBeGreaterThanOrEqual(additionsBefore.size);
      const qty = (billingId: string, sku: string) => sim.state.quantityOf(f.demo.contracts.get(billingId)!.connectwise, sku);
      expect(qty('29683490', 'HE-MBX-BASIC')).toBe(2);
      expect(qty('29683491', 'HE-MBX-BASIC')).toBe(2);
      expect(qty('29683492', 'HAD-OFFICE')).toBe(1);

      // A further run writes nothing: nothing was left half-applied for it to repair.
      const writes = sim.requests.filter(isWrite).length;
      const last = await runToEnd(f, jobId);
      expect(last.status).toMatch(/Succeeded|CompletedWith/);
      expect(last.changed_count).toBe(0);
      expect(sim.requests.filter(isWrite).length).toBe(writes);
      expect(additionCounts()).toEqual(after);
    },
  );
});
