import { beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { createCustomer } from '../../src/tenancy/customer.service.js';
import { expectNoSeriousA11yViolations, pageErrors, signIn, useConsole } from './support.js';

describe('the customer hierarchy, a level at a time', () => {
  const web = useConsole();
  beforeAll(async () => {
    // More customers under one reseller than the tree shows at once (50), and one of them a reseller with a customer.
    await inTransaction(web.server.t.db, async (tx) => {
      const fields = (n: string) => ({
        fullname: n,
        contactName: 'C',
        contactEmail: 'c@example.org',
        primaryDomain: `${n.replace(/\W/g, '').toLowerCase()}.example`,
      });
      const { customer: big } = await createCustomer(tx, web.server.t.admin, { ...fields('Big Reseller'), isReseller: true });
      for (let i = 1; i <= 53; i++) {
        const { customer } = await createCustomer(tx, web.server.t.admin, {
          ...fields(`Branch ${String(i).padStart(2, '0')}`),
          parent: { id: big.id },
          isReseller: i === 1,
        });
        if (i === 1) await createCustomer(tx, web.server.t.admin, { ...fields('Deep Leaf'), parent: { id: customer.id } });
      }
    });
  });

  it('opens a reseller to its first page of customers, loads more on request, and opens deeper levels by keyboard', async () => {
    const { page, context } = await web.signedInPage();
    await page.goto('/customers');
    const tree = page.getByRole('tree', { name: 'Customer hierarchy' });
    const big = tree.getByRole('treeitem', { name: /^Big Reseller/ });
    await big.waitFor();
    // Closed until asked: none of its customers were read yet.
    expect(await big.getAttribute('aria-expanded')).toBe('false');
    expect(await tree.getByRole('treeitem', { name: /^Branch 01 / }).count()).toBe(0);
    await big.focus();
    await page.keyboard.press('ArrowRight');
    await tree.getByRole('treeitem', { name: /^Branch 50 / }).waitFor();
    expect(await tree.getByRole('treeitem', { name: /^Branch 51 / }).count()).toBe(0);
    const more = tree.getByRole('treeitem', { name: 'Load more (50 of 53 shown)' });
    await more.click();
    await tree.getByRole('treeitem', { name: /^Branch 53 / }).waitFor();
    await expect.poll(() => tree.getByRole('treeitem', { name: /^Load more/ }).count()).toBe(0);

    // A deeper level opens the same way; Enter opens the customer's page.
    const branch = tree.getByRole('treeitem', { name: /^Branch 01 / });
    await branch.focus();
    await page.keyboard.press('ArrowRight');
    const leaf = tree.getByRole('treeitem', { name: /^Deep Leaf/ });
    await leaf.waitFor();
    expect(await leaf.getAttribute('aria-level')).toBe('4');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => leaf.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectNoSeriousA11yViolations(page);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Deep Leaf \(/ }).waitFor();
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('answers one level per call, never the whole subtree', async () => {
    const { page, context } = await web.newPage();
    const levels: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/console/customers/tree')) levels.push(new URL(r.url()).search);
    });
    await signIn(page);
    await page.goto('/customers');
    await page.getByRole('treeitem', { name: /^Big Reseller/ }).waitFor();
    const answer = await page.evaluate(() => fetch('/api/console/customers/tree').then((r) => r.json()));
    expect(answer.children.items.map((c: { fullname: string }) => c.fullname)).toEqual(['Big Reseller']);
    expect(answer.children.items[0].childrenCount).toBe(53);
    expect(levels.every((q) => !q.includes('parentId'))).toBe(true);
    await context.close();
  });
});
