import { expect } from 'vitest';
import type { DB } from '../../src/core/db/database.js';
import type { ProvisioningStatus } from '../../src/core/statuses.js';
import { ProvisioningEngine, DEFAULT_ENGINE_OPTIONS, type EngineOptions } from '../../src/provisioning/engine.js';
import type { AppContext } from '../../src/core/context.js';

/** Short leases and backoff so crash and retry tests take seconds. */
export const FAST: Partial<EngineOptions> = { leaseSeconds: 2, backoffSeconds: 0.2, backoffMaxSeconds: 1, pollingIntervalSeconds: 0.5 };

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
      expect(rows.map((r) => ({ id: r.id, status: r.status, error: r.error })), 'requests did not settle').toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function statusOf(db: DB, table: 'customers' | 'users' | 'customer_services' | 'user_services', id: number): Promise<ProvisioningStatus> {
  return (await db.selectFrom(table).select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

export async function logOf(db: DB, requestId: number): Promise<string[]> {
  const rows = await db.selectFrom('request_log').select(['level', 'message']).where('request_id', '=', requestId).orderBy('id').execute();
  return rows.map((r) => `${r.level}: ${r.message}`);
}
