import { beforeAll, describe, expect, it } from 'vitest';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { getCustomer } from '../../src/tenancy/customer.service.js';
import { adminOf, expectNoSeriousA11yViolations, pageErrors, useConsole } from './support.js';

/*
 * Issue 11 §6 on the customer edit page: the PSA contract (Autotask) and agreement (ConnectWise)
 * fields under Additional Options set the PsaContractId / PsaAgreementId the sync uses.
 */
describe('PSA contract and agreement on the customer edit page', () => {
  const web = useConsole();
  let tree: ResellerTree;
  beforeAll(async () => {
    tree = await makeResellerTree(web.server.t.db, web.server.t.admin);
  });

  const properties = async (id: number) => (await getCustomer(web.server.t.db, web.server.t.admin, { id })).properties;

  it('a reseller administrator sets, sees and clears them; a non-number is refused next to the field', async () => {
    const c = tree.customerA.customer;
    const { page, context } = await web.signedInPage(adminOf(tree.resellerA));
    await page.goto(`/customers/${c.id}/edit`);
    const contract = page.getByLabel('PSA contract ID (Autotask)');
    const agreement = page.getByLabel('PSA agreement ID (ConnectWise)');
    await contract.waitFor();
    expect(await contract.inputValue()).toBe('');
    expect(await agreement.inputValue()).toBe('');

    await contract.fill('12ab');
    await page.getByRole('button', { name: 'Save customer' }).click();
    await page.getByText('Enter the id as a whole number, or leave it empty to let the sync choose.').waitFor();
    expect(page.url()).toMatch(/\/edit$/);
    expect(await properties(c.id)).not.toHaveProperty('PsaContractId');

    await contract.fill('29684001');
    await agreement.fill('77');
    await page.getByRole('button', { name: 'Save customer' }).click();
    await page.waitForURL((u) => u.pathname === `/customers/${c.id}`);
    expect(await properties(c.id)).toMatchObject({ PsaContractId: '29684001', PsaAgreementId: '77' });

    // Back on the edit page: the values are in their fields, not repeated as free-form properties.
    await page.goto(`/customers/${c.id}/edit`);
    await expect.poll(() => contract.inputValue()).toBe('29684001');
    expect(await agreement.inputValue()).toBe('77');
    await page.getByRole('button', { name: 'Customer properties and additional properties' }).click();
    expect(await page.getByLabel('Property name').count()).toBe(0);
    await page.getByRole('button', { name: 'Additional Options' }).click();
    await expectNoSeriousA11yViolations(page);

    await contract.fill('');
    await page.getByRole('button', { name: 'Save customer' }).click();
    await page.waitForURL((u) => u.pathname === `/customers/${c.id}`);
    const after = await properties(c.id);
    expect(after).not.toHaveProperty('PsaContractId');
    expect(after).toMatchObject({ PsaAgreementId: '77' });
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it("a customer's own administrator cannot change its customer's mapping: the page says why and nothing is saved", async () => {
    const c = tree.customerB.customer;
    const { page, context } = await web.signedInPage(adminOf(tree.customerB));
    await page.goto(`/customers/${c.id}/edit`);
    await page.getByLabel('PSA contract ID (Autotask)').fill('5');
    await page.getByLabel('Address line 1').fill('9 Side St');
    await page.getByRole('button', { name: 'Save customer' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /"Manage Customers" permission|own customer's PSA contract/ })
      .waitFor();
    const stored = await getCustomer(web.server.t.db, web.server.t.admin, { id: c.id });
    expect(stored.properties).not.toHaveProperty('PsaContractId');
    expect(stored.address1).not.toBe('9 Side St');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
