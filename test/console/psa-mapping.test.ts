import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import type { ConsoleClient } from './support.js';
import { getCustomer } from '../../src/tenancy/customer.service.js';

/*
 * Issue 11 §6 in the console API: a customer's explicit Autotask contract / ConnectWise agreement
 * is read and edited with the customer (psaMapping), stored as the PsaContractId / PsaAgreementId
 * properties the sync and the CortexAPI use, scoped by subtree and set only from above.
 */
let setup: ConsoleTestApp;
let t: TestContext;
let tree: ResellerTree;
let provider: ConsoleClient;
let resellerA: ConsoleClient;
let customerA: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ t, tree } = setup);
  provider = await setup.signInAdmin();
  resellerA = await setup.signIn(tree.resellerA.adminUser.name);
  customerA = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(() => setup?.close());

const url = (id: number) => `/api/console/customers/${id}`;
const stored = async (id: number) => (await getCustomer(t.db, t.admin, { id })).properties;

describe('PSA contract / agreement mapping in the console API', () => {
  it('shows the mapping with the customer, sets it with the other fields in one update, and clears it with null', async () => {
    const id = tree.customerA.customer.id;
    expect((await resellerA.get(url(id))).json().psaMapping).toEqual({ autotaskContractId: null, connectwiseAgreementId: null });

    const set = await resellerA.patch(url(id), {
      accountCode: 'PSA-1',
      properties: { Region: 'North' },
      psaMapping: { autotaskContractId: 29684001, connectwiseAgreementId: 77 },
    });
    expect(set.statusCode).toBe(200);
    expect(set.json().requestId).toEqual(expect.any(Number));
    expect(set.json().customer).toMatchObject({
      accountCode: 'PSA-1',
      psaMapping: { autotaskContractId: 29684001, connectwiseAgreementId: 77 },
      properties: { Region: 'North', PsaContractId: '29684001', PsaAgreementId: '77' },
    });
    expect(await stored(id)).toEqual({ Region: 'North', PsaContractId: '29684001', PsaAgreementId: '77' });

    // Only the agreement: the contract keeps its value; properties left out keep theirs.
    const one = await resellerA.patch(url(id), { psaMapping: { connectwiseAgreementId: null } });
    expect(one.json().customer.psaMapping).toEqual({ autotaskContractId: 29684001, connectwiseAgreementId: null });
    expect(await stored(id)).toEqual({ Region: 'North', PsaContractId: '29684001' });

    // The edit page sends the properties without the two PSA keys plus psaMapping: nothing else is lost.
    const page = await resellerA.patch(url(id), {
      properties: { Region: 'South' },
      psaMapping: { autotaskContractId: 29684001, connectwiseAgreementId: null },
    });
    expect(page.statusCode).toBe(200);
    expect(await stored(id)).toEqual({ Region: 'South', PsaContractId: '29684001' });

    const cleared = await resellerA.patch(url(id), { psaMapping: { autotaskContractId: null, connectwiseAgreementId: null } });
    expect(cleared.json().customer.psaMapping).toEqual({ autotaskContractId: null, connectwiseAgreementId: null });
    expect(await stored(id)).toEqual({ Region: 'South' });
  });

  it('refuses ids that are not positive whole numbers, naming the field, and changes nothing', async () => {
    const id = tree.customerB.customer.id;
    for (const bad of [0, -5, 1.5, '12', 2 ** 60]) {
      const res = await provider.patch(url(id), { accountCode: 'NOT-SAVED', psaMapping: { autotaskContractId: bad } });
      expect(res.statusCode, String(bad)).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'ValidationError', field: expect.stringMatching(/autotaskContractId/) });
      expect(JSON.stringify(res.json())).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await provider.patch(url(id), { psaMapping: { contractId: 3 } })).statusCode).toBe(400);
    expect((await getCustomer(t.db, t.admin, { id })).accountCode).not.toBe('NOT-SAVED');
  });

  it("answers a customer outside the caller's subtree as not found", async () => {
    const sibling = await customerA.patch(url(tree.customerB.customer.id), { psaMapping: { autotaskContractId: 5 } });
    expect(sibling.statusCode).toBe(404);
    const otherReseller = await resellerA.patch(url(tree.resellerB.customer.id), { psaMapping: { connectwiseAgreementId: 5 } });
    expect(otherReseller.statusCode).toBe(404);
    expect(await stored(tree.customerB.customer.id)).not.toHaveProperty('PsaContractId');
    expect(await stored(tree.resellerB.customer.id)).not.toHaveProperty('PsaAgreementId');
  });

  it("lets a customer's own administrator save its customer but not change its PSA mapping", async () => {
    const id = tree.customerA.customer.id;
    await resellerA.patch(url(id), { psaMapping: { autotaskContractId: 4242, connectwiseAgreementId: null } });
    const refused = await customerA.patch(url(id), { psaMapping: { autotaskContractId: 1 } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('NotAuthorized');
    // Its edit page sends the mapping unchanged with its own edits: saved.
    const saved = await customerA.patch(url(id), {
      address1: '2 Low St',
      psaMapping: { autotaskContractId: 4242, connectwiseAgreementId: null },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().customer).toMatchObject({ address1: '2 Low St', psaMapping: { autotaskContractId: 4242 } });
  });
});
