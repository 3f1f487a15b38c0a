import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleGate } from '../../src/api/console/console-auth.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { expectNoSeriousA11yViolations, pageErrors, useConsole } from './support.js';

describe('managing a user', () => {
  const web = useConsole();
  let page: Page;
  let tenant: Tenant;
  let clockMs = Date.now();
  beforeAll(async () => {
    // Sessions on a clock the test moves: idle expiry without waiting half an hour. The live stream's
    // own session check (every 25 s) would sign the page out at a moment of its choosing, racing the
    // click this test makes after the clock moves; here only that click may notice.
    consoleGate(web.server.t.ctx, { now: () => new Date(clockMs), idleMs: 30 * 60_000, streamCheckMs: 3_600_000 });
    tenant = await makeTenant(web.server.t.db, web.server.t.admin, { fullname: 'Solo Systems' });
    ({ page } = await web.signedInPage());
  });

  it('resets a password, shows it once with a copy button, and the new password signs in', async () => {
    await page.goto(`/users/${tenant.adminUser.id}`);
    await page.getByRole('button', { name: 'Reset password' }).click();
    const ask = page.getByRole('dialog', { name: /^Reset the password of/ });
    await ask.getByRole('button', { name: 'Reset password' }).click();
    const shown = page.getByRole('dialog', { name: /^Password of .* reset$/ });
    const password = (await shown.getByTestId('shown-password').textContent())!.trim();
    expect(password.length).toBeGreaterThanOrEqual(12);
    await shown.getByRole('button', { name: 'Copy password' }).waitFor();
    await expectNoSeriousA11yViolations(page);
    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.getByText(password).count()).toBe(0);

    const other = await web.signedInPage({ user: tenant.adminUser.name, password });
    await other.context.close();
  });

  it('explains why the last user of a customer cannot be deleted, and keeps the user', async () => {
    await page.goto(`/users/${tenant.adminUser.id}`);
    await page.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: /^Delete / });
    await dialog.getByText(/A customer keeps at least one user/).waitFor();
    await dialog.getByRole('button', { name: 'Delete user' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/last user/i);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: tenant.adminUser.name, exact: true }).waitFor();
  });

  it('says what deleting a customer would do before anything is deleted', async () => {
    await page.goto(`/customers/${tenant.customer.id}`);
    await page.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: /^Delete / });
    await dialog.getByText(/removed for good, with its 1 user/).waitFor();
    // The actions menu closes with a transition; checked mid-fade its dropdown is half a menu.
    await page.getByRole('menu').waitFor({ state: 'hidden' });
    await expectNoSeriousA11yViolations(page);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(
      await web.server.t.db.selectFrom('customers').select('deleted_at').where('id', '=', tenant.customer.id).executeTakeFirstOrThrow(),
    ).toEqual({ deleted_at: null });
  });

  it('sends an idle session back to sign-in with the reason, then returns to the page', async () => {
    await page.goto('/customers');
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    clockMs += 31 * 60_000;
    // Any console call now finds the session ended: the click's, or one the page made by itself
    // (a re-read, on a loaded machine seconds late), which may have left before the click and then
    // remembers the customers page. So the link is clicked at once if it is still there (a waiting
    // click could land after the sign-in instead); either way the sign-in page says why and returns
    // to the page remembered.
    const clicked = await page.evaluate(() => {
      const link = document.querySelector<HTMLAnchorElement>('nav[aria-label="Main"] a[href="/users"]');
      link?.click();
      return link !== null;
    });
    await page.getByText('Your session ended after a period without activity. Sign in again.').waitFor();
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel(/^Password/).fill((await import('../support/engine.js')).TEST_ADMIN.password);
    const next = new URL(page.url()).searchParams.get('next');
    expect(clicked ? ['/users', '/customers'] : ['/customers']).toContain(next);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: next === '/users' ? 'Users' : 'Customers' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(next);
    expect(pageErrors(page)).toEqual([]);
  });
});
