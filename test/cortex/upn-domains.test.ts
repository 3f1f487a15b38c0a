import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, PASSWORD, type ResellerTree } from '../support/fixtures.js';
import { startCortex, errorOf, request, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;
let tree: ResellerTree;

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
  api = await startCortex(t);
});
afterAll(async () => {
  await api?.close();
  await t?.close();
});

describe("a UPN must be in the customer's own domain", () => {
  const asA = () => ({ user: tree.customerA.adminUser.name, password: PASSWORD });
  const setUser = (inner: string) =>
    request('SET', `<customer><name>${tree.customerA.customer.name}</name><user>${inner}</user></customer>`);

  it("refuses a new user in another tenant's domain, and that tenant can still create its own", async () => {
    const foreign = tree.customerB.customer.primaryDomain;
    const r = await api.post(setUser(`<name>ceo</name><upn>ceo@${foreign}</upn>`), asA());
    expect(errorOf(r)?.id).toBe(15);
    expect(errorOf(r)?.message).toContain(tree.customerA.customer.primaryDomain);
    const own = await api.post(
      request(
        'SET',
        `<customer><name>${tree.customerB.customer.name}</name><user><name>ceo</name><upn>ceo@${foreign}</upn></user></customer>`,
      ),
      { user: tree.customerB.adminUser.name, password: PASSWORD },
    );
    expect(errorOf(own)).toBeUndefined();
  });

  it('answers a foreign UPN the same whether or not it exists (no existence oracle)', async () => {
    const foreign = tree.customerB.customer.primaryDomain;
    const taken = await api.post(setUser(`<name>probe1</name><upn>${tree.customerB.adminUser.upn}</upn>`), asA());
    const free = await api.post(setUser(`<name>probe2</name><upn>nobody-here@${foreign}</upn>`), asA());
    expect(errorOf(taken)?.message.replace(/'[^']*@/, "'@")).toBe(errorOf(free)?.message.replace(/'[^']*@/, "'@"));
  });

  it('accepts the primary domain and its subdomains, and refuses moving an existing user out of them', async () => {
    const own = tree.customerA.customer.primaryDomain;
    expect(errorOf(await api.post(setUser(`<name>sub</name><upn>sub@eu.${own}</upn>`), asA()))).toBeUndefined();
    expect(errorOf(await api.post(setUser(`<name>sub</name><upn>sub@evil-${own}</upn>`), asA()))?.id).toBe(15);
    expect(errorOf(await api.post(setUser(`<name>sub</name><upn>sub@${own}</upn>`), asA()))).toBeUndefined();
  });
});
