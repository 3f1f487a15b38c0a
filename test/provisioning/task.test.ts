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
});
