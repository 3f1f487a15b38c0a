import { beforeAll, describe, expect, it } from 'vitest';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { adminOf, expectNoSeriousA11yViolations, pageErrors, useConsole } from './support.js';

describe('what a customer administrator sees', () => {
  const web = useConsole();
  let tree: ResellerTree;
  beforeAll(async () => {
    tree = await makeResellerTree(web.server.t.db, web.server.t.admin);
  });

  it('sees only its own customer, and a sibling is not found by click or by typed URL', async () => {
    const own = tree.customerA;
    const sibling = tree.customerB;
    const { page, context } = await web.signedInPage(adminOf(own));

    await page.goto('/customers');
    const table = page.getByRole('table', { name: 'Customers' });
    await table.getByRole('link', { name: own.customer.name }).waitFor();
    expect(await table.getByRole('link').allTextContents()).toEqual([own.customer.name]);
    const hierarchy = page.getByRole('tree', { name: 'Customer hierarchy' });
    await hierarchy.getByText(own.customer.fullname).waitFor();
    for (const other of [sibling, tree.resellerA, tree.resellerB, tree.direct]) {
      expect(await hierarchy.getByText(other.customer.fullname).count()).toBe(0);
    }
    // Searching by the sibling's code finds nothing either.
    await page.getByLabel('Search').fill(sibling.customer.name);
    await expect.poll(() => table.getByRole('link').count()).toBe(0);

    // Its users list holds only its own users.
    await page.goto('/users');
    await page.getByRole('table', { name: 'Users' }).getByRole('link', { name: own.adminUser.name }).waitFor();
    expect(await page.getByRole('table', { name: 'Users' }).getByText(sibling.adminUser.name).count()).toBe(0);

    // Typed URLs of the sibling, of its user and of the parent reseller: "not found", as the API says.
    for (const url of [
      `/customers/${sibling.customer.id}`,
      `/customers/${sibling.customer.id}/edit`,
      `/users/${sibling.adminUser.id}`,
      `/customers/${tree.resellerA.customer.id}`,
    ]) {
      await page.goto(url);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
      expect(await page.getByText(sibling.customer.fullname).count(), url).toBe(0);
    }
    // An id that is not a number is the same "not found", not a load error.
    for (const url of ['/customers/abc', '/customers/abc/edit', '/users/abc', '/requests/12x']) {
      await page.goto(url);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
      expect(await page.getByText(/could not be loaded/).count(), url).toBe(0);
    }
    await expectNoSeriousA11yViolations(page);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a reseller administrator sees its subtree and not the other reseller', async () => {
    const { page, context } = await web.signedInPage(adminOf(tree.resellerA));
    await page.goto('/customers');
    const table = page.getByRole('table', { name: 'Customers' });
    await table.getByRole('link', { name: tree.customerA.customer.name }).waitFor();
    expect((await table.getByRole('link').allTextContents()).sort()).toEqual(
      [tree.customerA.customer.name, tree.resellerA.customer.name].sort(),
    );
    await page.getByRole('tree', { name: 'Customer hierarchy' }).getByText(tree.customerA.customer.fullname).click();
    await page.getByRole('heading', { name: `${tree.customerA.customer.fullname} (${tree.customerA.customer.name})` }).waitFor();
    await page.goto(`/customers/${tree.customerB.customer.id}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await context.close();
  });
});
