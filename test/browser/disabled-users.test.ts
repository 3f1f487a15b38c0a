import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { createUser, updateUser } from '../../src/tenancy/user.service.js';
import { PASSWORD, makeTenant, type Tenant } from '../support/fixtures.js';
import { adminOf, expectNoSeriousA11yViolations, pageErrors, signIn, useConsole } from './support.js';

async function submitSignIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('disabled users in the console', () => {
  const web = useConsole();
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await makeTenant(web.server.t.db, web.server.t.admin, { fullname: 'Switchboard Services' });
  });

  const setUserEnabled = (t: Tenant, enabled: boolean) =>
    inTransaction(web.server.t.db, (tx) => updateUser(tx, web.server.t.admin, t.customer, { id: t.adminUser.id }, { enabled }));

  it('filters the user list by enabled, disabled or all', async () => {
    const { user: off } = await inTransaction(web.server.t.db, (tx) =>
      createUser(tx, web.server.t.admin, tenant.customer, { name: 'dormant', password: { password: PASSWORD } }),
    );
    await inTransaction(web.server.t.db, (tx) => updateUser(tx, web.server.t.admin, tenant.customer, { id: off.id }, { enabled: false }));
    const { page, context } = await web.signedInPage();
    await page.goto(`/customers/${tenant.customer.id}`);
    const table = page.getByRole('table', { name: 'Users' });
    await table.getByRole('link', { name: off.name }).waitFor();
    await table.getByRole('link', { name: tenant.adminUser.name }).waitFor();

    await page.getByRole('combobox', { name: 'Enabled' }).click();
    await page.getByRole('option', { name: 'Disabled', exact: true }).click();
    await expect.poll(() => table.getByRole('link').allTextContents()).toEqual([off.name]);
    expect(new URL(page.url()).searchParams.get('enabled')).toBe('false');
    await expect.poll(() => table.getByText('Disabled', { exact: true }).count()).toBe(1);

    await page.getByRole('combobox', { name: 'Enabled' }).click();
    await page.getByRole('option', { name: 'Enabled', exact: true }).click();
    await expect.poll(() => table.getByRole('link').allTextContents()).toEqual([tenant.adminUser.name]);

    await page.getByRole('combobox', { name: 'Enabled' }).click();
    await page.getByRole('option', { name: 'All', exact: true }).click();
    await expect
      .poll(async () => (await table.getByRole('link').allTextContents()).sort())
      .toEqual([tenant.adminUser.name, off.name].sort());
    expect(new URL(page.url()).searchParams.get('enabled')).toBeNull();
    await expectNoSeriousA11yViolations(page);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('refuses a disabled user, and a user of a disabled customer, with the reason', async () => {
    const { page, context } = await web.newPage();
    await setUserEnabled(tenant, false);
    await submitSignIn(page, tenant.adminUser.name, PASSWORD);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/This user is disabled and cannot sign in/);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await setUserEnabled(tenant, true);

    await inTransaction(web.server.t.db, (tx) => updateCustomer(tx, web.server.t.admin, { id: tenant.customer.id }, { enabled: false }));
    await submitSignIn(page, tenant.adminUser.name, PASSWORD);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/customer is disabled, so its users cannot sign in/);
    await inTransaction(web.server.t.db, (tx) => updateCustomer(tx, web.server.t.admin, { id: tenant.customer.id }, { enabled: true }));
    await expectNoSeriousA11yViolations(page);
    await context.close();
  });

  it('ends the open session of a user who is disabled at once: the live feed brings the sign-in page with the reason', async () => {
    const { page, context } = await web.signedInPage(adminOf(tenant));
    await page.goto('/customers');
    await page.locator('[data-live="live"]').waitFor();
    await setUserEnabled(tenant, false);
    // Nothing is clicked: the stream's last event signs the page out.
    await page.getByText('Your session has ended: your user has been disabled. Ask your administrator.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/customers');
    await setUserEnabled(tenant, true);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it("ends it at the next console call when there is no live feed, also for the customer's users", async () => {
    const { page, context } = await web.newPage();
    // A proxy that drops the stream: only the next call can tell.
    await page.route('**/api/console/requests/events', (route) => route.abort());
    await signIn(page, adminOf(tenant));
    await page.goto('/customers');
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    await inTransaction(web.server.t.db, (tx) => updateCustomer(tx, web.server.t.admin, { id: tenant.customer.id }, { enabled: false }));
    const ended = page.getByText('Your session has ended: your customer has been disabled. Ask your service provider.');
    // The next console call ends it: the click's, or a background refresh that came first and took
    // the page (and the link) to the sign-in page.
    const users = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' });
    await Promise.race([users.click().catch(() => undefined), ended.waitFor()]);
    await ended.waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await inTransaction(web.server.t.db, (tx) => updateCustomer(tx, web.server.t.admin, { id: tenant.customer.id }, { enabled: true }));
    await context.close();
  });
});
