import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { buildWork } from '../../src/provisioning/task.js';
import type { EngineRequest } from '../../src/provisioning/engine.queries.js';

let t: TestContext;
let tree: ResellerTree;

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
});
afterAll(() => t?.close());

/** The customer's own provisioning request, as a worker has it when it builds the driver task. */
async function customerRequest(customerId: number): Promise<EngineRequest> {
  return t.db
    .selectFrom('provisioning_requests')
    .selectAll()
    .where('entity', '=', 'customer')
    .where('entity_id', '=', customerId)
    .orderBy('id')
    .limit(1)
    .executeTakeFirstOrThrow();
}

describe('the task a driver is given', () => {
  it("names the customer's ancestry from the root down to its parent, in order", async () => {
    const ancestryOf = async (customerId: number) =>
      (await buildWork(t.db, await customerRequest(customerId), 1, {})).task.customer.ancestry;
    expect(await ancestryOf(tree.customerA.customer.id)).toEqual([t.provider.name, tree.resellerA.customer.name]);
    expect(await ancestryOf(tree.resellerB.customer.id)).toEqual([t.provider.name]);
    expect(await ancestryOf(tree.direct.customer.id)).toEqual([t.provider.name]);
  });

  it('gives the provider no ancestry', async () => {
    const request = { ...(await customerRequest(tree.direct.customer.id)), customer_id: t.provider.id, entity_id: t.provider.id };
    const work = await buildWork(t.db, request, 1, {});
    expect(work.task.customer).toMatchObject({ id: t.provider.id, name: t.provider.name, ancestry: [] });
  });

  it("sends a customer's and a user's task to each enabled driver configuration once, in catalog order", async () => {
    const request = await customerRequest(tree.customerA.customer.id);
    const before = (await buildWork(t.db, request, 1, {})).targets;
    const webhook = { url: 'http://hooks.test/provision' };
    const added = await t.db
      .insertInto('services')
      .values([
        { code: 'TGT1', fullname: 'Target one', driver: 'webhook', driver_config: JSON.stringify(webhook) },
        { code: 'TGT2', fullname: 'Target two (same configuration)', driver: 'webhook', driver_config: JSON.stringify(webhook) },
        {
          code: 'TGT3',
          fullname: 'Target three (disabled)',
          driver: 'webhook',
          driver_config: JSON.stringify({ url: 'http://off.test' }),
          enabled: false,
        },
      ])
      .returning('id')
      .execute();
    try {
      const expected = [...before, { driver: 'webhook', config: webhook }];
      expect((await buildWork(t.db, request, 1, {})).targets).toEqual(expected);
      const userRequest = { ...request, entity: 'user' as const, entity_id: tree.customerA.adminUser.id };
      expect((await buildWork(t.db, userRequest, 1, {})).targets).toEqual(expected);
      expect(before.some((target) => target.driver === 'webhook')).toBe(false);
    } finally {
      await t.db
        .deleteFrom('services')
        .where(
          'id',
          'in',
          added.map((r) => r.id),
        )
        .execute();
    }
  });
});
