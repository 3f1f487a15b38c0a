import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src/demo/demo.js';
import { expectNoSeriousA11yViolations, pageErrors, screenshot, useConsole } from './support.js';

/** Every main page with demo data: it shows what it should, passes axe-core, and has its README screenshot. */
describe('the console pages with the demo tree', () => {
  const web = useConsole({ provisioning: true });
  let page: Page;
  beforeAll(async () => {
    await loadDemo(web.server.t.ctx, web.server.t.admin);
    ({ page } = await web.signedInPage());
  });

  const demoCustomer = () =>
    web.server.t.db.selectFrom('customers').select(['id', 'name']).where('fullname', '=', 'Tailspin Toys').executeTakeFirstOrThrow();

  it('Customers: the tree and the table with the Billing Identifier', async () => {
    await page.goto('/customers');
    await page.getByRole('tree', { name: 'Customer hierarchy' }).getByText('Tailspin Toys').waitFor();
    const table = page.getByRole('table', { name: 'Customers' });
    await table.getByText('29683492').waitFor();
    await expect.poll(() => table.getByText('Provisioned', { exact: true }).count()).toBeGreaterThan(0);
    await screenshot(page, 'customers');
    await expectNoSeriousA11yViolations(page);
  });

  it('Customer detail: users, services, locations, approval settings and service changes tabs', async () => {
    const c = await demoCustomer();
    await page.goto(`/customers/${c.id}`);
    await page.getByRole('heading', { name: `Tailspin Toys (${c.name})` }).waitFor();
    await page.getByRole('table', { name: 'Users' }).getByText(`frank_${c.name}`).waitFor();
    await screenshot(page, 'customer-detail');
    await expectNoSeriousA11yViolations(page);
    await page.getByRole('tab', { name: 'Services' }).click();
    await page
      .getByRole('region', { name: /Service Hosted/ })
      .or(page.getByText('HostedAppsandDesktops'))
      .first()
      .waitFor();
    await screenshot(page, 'customer-services');
    await expectNoSeriousA11yViolations(page);
    const tabs: [string, RegExp][] = [
      ['Locations', /Current location/],
      ['Approval settings', /No subscriptions|Group /],
      ['Service changes', /user_service_added|customer_service_added|No service changes/],
    ];
    for (const [tab, shows] of tabs) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('tabpanel', { name: tab }).getByText(shows).first().waitFor();
      await expectNoSeriousA11yViolations(page);
    }
    await screenshot(page, 'customer-service-changes');
  });

  it('Customer edit: Additional Options hold the Billing Identifier and account code', async () => {
    const c = await demoCustomer();
    await page.goto(`/customers/${c.id}/edit`);
    await expect.poll(() => page.getByLabel('Billing Identifier').inputValue()).toBe('29683492');
    expect(await page.getByLabel('Account code').inputValue()).toBe('ACC-29683492');
    await screenshot(page, 'customer-edit');
    await expectNoSeriousA11yViolations(page);
  });

  it('Users: the subtree list and a user with its Account Settings', async () => {
    const c = await demoCustomer();
    await page.goto('/users');
    const link = page.getByRole('table', { name: 'Users' }).getByRole('link', { name: `frank_${c.name}` });
    await link.waitFor();
    await screenshot(page, 'users');
    await expectNoSeriousA11yViolations(page);
    await link.click();
    await page.getByRole('heading', { name: `frank_${c.name}` }).waitFor();
    await page.getByRole('button', { name: /Advanced Options/ }).click();
    await page.getByRole('table', { name: 'Permissions from these roles' }).getByText('API Access').waitFor();
    await screenshot(page, 'user-detail');
    await expectNoSeriousA11yViolations(page);
    await page.getByRole('tab', { name: 'Services' }).click();
    await page
      .getByRole('table', { name: `Services of frank_${c.name}` })
      .getByText('Desktops', { exact: false })
      .first()
      .waitFor();
    await expectNoSeriousA11yViolations(page);
  });

  it('Requests: the list and a request with its log and step times', async () => {
    await page.goto('/requests');
    const table = page.getByRole('table', { name: 'Provisioning requests' });
    await table.getByRole('link').first().waitFor();
    await screenshot(page, 'requests');
    await expectNoSeriousA11yViolations(page);
    await table.getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Request #\d+$/ }).waitFor();
    await page.getByRole('table', { name: 'Request log' }).waitFor();
    await screenshot(page, 'request-detail');
    await expectNoSeriousA11yViolations(page);
  });

  it('Approvals and Account pages', async () => {
    await page.goto('/approvals');
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    await page
      .getByText(/Nothing is waiting|Held request/)
      .first()
      .waitFor();
    await expectNoSeriousA11yViolations(page);
    await page.goto('/account');
    await page.getByText('Two-factor sign-in', { exact: true }).waitFor();
    await expectNoSeriousA11yViolations(page);
    expect(pageErrors(page)).toEqual([]);
  });
});

describe('forms and keyboard', () => {
  const web = useConsole();
  let page: Page;
  beforeAll(async () => {
    ({ page } = await web.signedInPage());
  });

  it("shows the server's validation message next to the field and keeps what was typed", async () => {
    await page.goto('/customers');
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel(/^Full name/).fill('Typo Traders');
    await dialog.getByLabel(/^Primary domain/).fill('typo.example');
    await dialog.getByLabel(/^Contact name/).fill('Tina Typo');
    const email = dialog.getByLabel(/^Contact email/);
    await email.fill('tina-at-typo.example');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    // The message is tied to the field (aria-describedby), so a screen reader reads it with it.
    const describedBy = (await email.getAttribute('aria-describedby')) ?? '';
    const message = await page.evaluate(
      (ids) =>
        ids
          .split(' ')
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join(' '),
      describedBy,
    );
    expect(message).toMatch(/email/i);
    expect(await dialog.getByLabel(/^Full name/).inputValue()).toBe('Typo Traders');
    expect(await email.inputValue()).toBe('tina-at-typo.example');
    expect(await page.getByText(/ at .*\.(js|ts):\d+/).count()).toBe(0);
    await expectNoSeriousA11yViolations(page);
    await page.keyboard.press('Escape');
  });

  it('is usable with the keyboard: the navigation, the hierarchy tree and a customer page', async () => {
    await page.goto('/customers');
    await page.getByRole('tree', { name: 'Customer hierarchy' }).getByText('Service Provider').waitFor();
    // Tab from the top of the page reaches the main navigation; Enter follows a link.
    await page.locator('body').focus();
    let reached = '';
    for (let i = 0; i < 12 && reached !== 'Users'; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() =>
        document.activeElement?.closest('nav') ? (document.activeElement.textContent ?? '').trim() : '',
      );
    }
    expect(reached).toBe('Users');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    // The tree takes focus and Enter opens the focused customer.
    await page.goto('/customers');
    const root = page.getByRole('treeitem').first();
    await root.waitFor();
    await root.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Service Provider \(/ }).waitFor();
    // Tabs switch with the arrow keys.
    await page.getByRole('tab', { name: 'Users' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'Services' }).getAttribute('aria-selected')).toBe('true');
  });
});
