import { describe, expect, it } from 'vitest';
import { demoJobs, demoQuantities } from '../../src/demo/psa-demo.js';
import { TEST_ENGINE } from '../support/engine.js';
import { killMidSync, runToEnd, syncJob, usePsaKill } from './psa-kill.js';

/**
 * kill -9 in the middle of an Autotask sync, on PostgreSQL, of a worker (`tenantry worker`) and of
 * the server (`tenantry start`, running the job workers in-process), with a `tenantry worker`
 * taking over (psa-kill.ts); the PSA's writes, lines and adjustments are then counted.
 */
/** Autotask writes: POST/PATCH to an entity, not the POST of a query. */
const WRITE = /^(?!.*\/query)/;
const isWrite = (r: { method: string; path: string }) => r.method !== 'GET' && WRITE.test(r.path);

for (const victim of ['worker', 'start'] as const) {
  const who = victim === 'start' ? 'the server (tenantry start)' : 'a worker (tenantry worker)';
  describe.skipIf(TEST_ENGINE !== 'postgres')(`kill -9 of ${who} mid Autotask sync, on one PostgreSQL`, () => {
    const fixture = usePsaKill();

    /** Counts per contract and service: a line created twice, or an adjustment sent twice, shows as 2. */
    const perLine = (rows: Record<string, unknown>[]) => {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const key = `${String(r.contractID)}/${String(r.serviceID)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };

    it(
      `a write in flight when ${who} dies is not applied twice; the run is marked Failed and the next run converges`,
      { timeout: 300_000 },
      async () => {
        const f = fixture();
        const { autotask: sim } = f.demo;
        const jobId = await syncJob(f, demoJobs(f.demo)[0]!);
        const adjustmentsBefore = sim.state.adjustments().length;
        // The first write the sync sends hangs: the process is killed while it waits for the answer.
        sim.injectFaults({ hang: true, match: { method: 'POST', path: WRITE } });
        sim.injectFaults({ hang: true, match: { method: 'PATCH', path: WRITE } });
        await killMidSync(f, jobId, victim, sim, isWrite);
        expect(sim.state.adjustments()).toHaveLength(adjustmentsBefore);

        const writesBeforeNext = sim.requests.filter(isWrite).length;
        const done = await runToEnd(f, jobId);
        expect(done.status).toMatch(/Succeeded|CompletedWith/);
        const writesOfNext = sim.requests.filter(isWrite).length - writesBeforeNext;
        expect(writesOfNext).toBeGreaterThan(0);
        // Each write of the next run changed a different line, once: no adjustment sent twice.
        const adjustments = sim.state.adjustments().slice(adjustmentsBefore);
        expect(adjustments.length).toBeGreaterThan(0);
        expect([...perLine(adjustments as unknown as Record<string, unknown>[]).values()].every((n) => n === 1)).toBe(true);
        // Every contract holds each service once, at the billed quantity.
        const lines = perLine(sim.state.all('ContractServices'));
        expect([...lines.values()].every((n) => n === 1)).toBe(true);
        const qty = (billingId: string, sku: string) =>
          demoQuantities(f.demo).find((r) => r.billingId === billingId && r.sku === sku)?.autotask;
        expect(qty('29683490', 'HE-MBX-BASIC')).toBe(2);
        expect(qty('29683491', 'HE-MBX-BASIC')).toBe(2);
        expect(qty('29683492', 'HAD-OFFICE')).toBe(1);

        // A further run writes nothing: nothing was left half-applied for it to repair.
        const writes = sim.requests.filter(isWrite).length;
        const adjusted = sim.state.adjustments().length;
        const last = await runToEnd(f, jobId);
        expect(last.status).toMatch(/Succeeded|CompletedWith/);
        expect(last.changed_count).toBe(0);
        expect(sim.requests.filter(isWrite).length).toBe(writes);
        expect(sim.state.adjustments()).toHaveLength(adjusted);
        expect(perLine(sim.state.all('ContractServices'))).toEqual(lines);
      },
    );
  });
}
