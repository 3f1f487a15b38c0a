import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { inTransaction, withDefaultUser } from '../../src/core/db/database.js';
import { createCustomer } from '../../src/tenancy/customer.service.js';
import { createRequest } from '../../src/provisioning/requests.js';
import { claimRequests, writeStep } from '../../src/provisioning/engine.queries.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { TEST_ENGINE } from '../support/engine.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { settle, startEngine } from './support.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

// A CI run on PostgreSQL left a batch Requested for good: the end of the earlier tree it waited for
// chose whom to wake from a snapshot older than the batch, while the batch's own blocker check had
// seen that tree still running. Server only: the interleaving is made by holding a row lock from a
// second connection, which the embedded database (one connection) cannot have.
describe.skipIf(TEST_ENGINE !== 'postgres')('a request waiting for an earlier tree', () => {
  it('runs even when that tree ends in a statement that began before the request existed', async () => {
    const t: TestContext = await openTestContext();
    cleanup.push(() => t.close());
    const customer = await inTransaction(t.db, async (tx) => {
      const created = await createCustomer(tx, t.admin, {
        name: 'WAKE',
        fullname: 'Lost Wake',
        contactName: 'c',
        contactEmail: 'c@c.example',
        primaryDomain: 'wake.example',
      });
      return created.customer;
    });
    // The customer's create request is the earlier tree; this test plays its worker.
    const [earlier] = (await claimRequests(t.db, 'earlier/1', 600, 100)).filter(
      (r) => r.entity === 'customer' && r.entity_id === customer.id,
    );
    expect(earlier).toBeDefined();

    // Its end statement takes its snapshot, then waits on its own row, locked here.
    const holder = new pg.Client({ connectionString: withDefaultUser(t.url!) });
    await holder.connect();
    cleanup.push(() => holder.end());
    await holder.query('begin');
    await holder.query('select 1 from provisioning_requests where id = $1 for update', [earlier!.id]);
    const ended = writeStep(t.db, earlier!, 'earlier/1', {
      status: 'Provisioned',
      ended: true,
      wakeDependants: true,
      lines: [],
      times: [],
    });
    await expect
      .poll(
        async () =>
          (
            await holder.query(
              `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
            )
          ).rows[0].n,
      )
      .toBe(1);

    // A later request on the same customer commits now, after that snapshot.
    const laterId = await inTransaction(t.db, (tx) =>
      createRequest(tx, t.admin, { entity: 'customer', entityId: customer.id, customerId: customer.id, action: 'update' }),
    );
    const engine: ProvisioningEngine = await startEngine(t.ctx);
    cleanup.push(() => engine.stop());
    // The engine claims it (taking its wake), sees the earlier tree still running and leaves it to wait.
    await expect
      .poll(async () => {
        const { rows } = await sql<{ waiting: boolean }>`
          select status = 'Requested' and lease_owner is null and (wake_at is null or wake_at > now()) as waiting
          from provisioning_requests where id = ${laterId}`.execute(t.db);
        return rows[0]!.waiting;
      })
      .toBe(true);

    await holder.query('commit');
    expect(await ended).toBe(true);
    const [later] = await settle(t.db, [laterId]);
    expect(later!.status).toBe('Provisioned');
  });
});
