import { expect, vi } from 'vitest';
import type { DB } from '../../src/core/db/database.js';
import type { ProvisioningStatus } from '../../src/core/statuses.js';
import { ProvisioningEngine, DEFAULT_ENGINE_OPTIONS, type EngineOptions } from '../../src/provisioning/engine.js';
import type { AppContext } from '../../src/core/context.js';
import type { DriverTask } from '../../src/provisioning/drivers/driver.js';
import { SimulatedDriver } from '../../src/provisioning/drivers/simulated.js';

/**
 * Short backoff so retry tests take seconds. The lease is long: no test of an in-process engine
 * lets one lapse (crash.test.ts kills worker processes), and a 2 s lease lapsed on a loaded
 * machine, so the engine took its own request again and made an attempt too many.
 */
export const FAST: Partial<EngineOptions> = {
  leaseSeconds: 600,
  backoffSeconds: 0.2,
  backoffMaxSeconds: 1,
  pollingIntervalSeconds: 0.5,
  blockedRecheckSeconds: 1,
};

export async function startEngine(ctx: AppContext, options: Partial<EngineOptions> = {}): Promise<ProvisioningEngine> {
  const engine = new ProvisioningEngine(ctx, { ...DEFAULT_ENGINE_OPTIONS, ...FAST, ...options });
  await engine.start();
  return engine;
}

const FINAL: ProvisioningStatus[] = ['Provisioned', 'NotProvisioned', 'Failed'];

/** Waits until the requests reach a final status; returns their rows. */
export async function settle(db: DB, ids: number[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.selectFrom('provisioning_requests').selectAll().where('id', 'in', ids).orderBy('id').execute();
    if (rows.length === ids.length && rows.every((r) => FINAL.includes(r.status))) return rows;
    if (Date.now() > deadline) {
      expect(
        rows.map((r) => ({ id: r.id, status: r.status, error: r.error })),
        'requests did not settle',
      ).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function statusOf(
  db: DB,
  table: 'customers' | 'users' | 'customer_services' | 'user_services',
  id: number,
): Promise<ProvisioningStatus> {
  return (await db.selectFrom(table).select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

export async function logOf(db: DB, requestId: number): Promise<string[]> {
  const rows = await db.selectFrom('request_log').select(['level', 'message']).where('request_id', '=', requestId).orderBy('id').execute();
  return rows.map((r) => `${r.level}: ${r.message}`);
}

/**
 * Holds each simulated driver task that `match` selects at its start until `release()`: a test
 * reads the state a step runs under (InProgress) by a condition, whatever the machine's speed.
 * The driver then runs as usual.
 */
export function holdDriver(match: (task: DriverTask) => boolean): { entered: Promise<void>; release: () => void } {
  const run = SimulatedDriver.prototype.run;
  let enter!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  let open!: () => void;
  const released = new Promise<void>((r) => (open = r));
  const spy = vi.spyOn(SimulatedDriver.prototype, 'run').mockImplementation(async function (this: SimulatedDriver, task, log) {
    if (match(task)) {
      enter();
      await released;
    }
    return run.call(this, task, log);
  });
  return {
    entered,
    release: () => {
      spy.mockRestore();
      open();
    },
  };
}
