import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, makeTenant, type Tenant } from '../support/fixtures.js';
import { ADMIN, adminOf, expectNoSeriousA11yViolations, pageErrors, screenshot, useConsole } from './support.js';

async function submitSignIn(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('signing in to the console', () => {
  const web = useConsole();
  let lockMe: Tenant;
  let twoFactor: Tenant;
  beforeAll(async () => {
    lockMe = await makeTenant(web.server.t.db, web.server.t.admin, { fullname: 'Lockout Limited' });
    twoFactor = await makeTenant(web.server.t.db, web.server.t.admin, { fullname: 'Two Factor Trading' });
  });

  it('refuses a wrong password with the reason and keeps the typed user name', async () => {
    const { page, context } = await web.newPage();
    await page.goto('/sign-in');
    await submitSignIn(page, ADMIN.user, 'not-the-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/authentication failed/i);
    expect(await page.getByLabel('User name').inputValue()).toBe(ADMIN.user);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await context.close();
  });

  it('signs the provider admin in, lands on Customers and signs out again', async () => {
    const { page, context } = await web.signedInPage();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    expect(await page.getByTestId('signed-in-user').textContent()).toContain('admin_');
    // The session is an HttpOnly cookie: page scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('tenantry_session');
    const cookie = (await context.cookies()).find((c) => c.name === 'tenantry_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tenantry' }).waitFor();
    await page.goto('/customers');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/sign-in');
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('after repeated wrong passwords says the user is locked out and for how long', async () => {
    const { page, context } = await web.newPage();
    await page.goto('/sign-in');
    let message = '';
    for (let attempt = 1; attempt <= 40 && !/try again in/i.test(message); attempt++) {
      await submitSignIn(page, lockMe.adminUser.name, `wrong-${attempt}`);
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':not([data-loading])')).waitFor();
      message = (await page.getByRole('alert').textContent()) ?? '';
    }
    expect(message).toMatch(/try again in \d+ (minute|second)s?/i);
    // Locked means locked: the right password is refused too, with the same message.
    await submitSignIn(page, lockMe.adminUser.name, PASSWORD);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/try again in/i);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await context.close();
  });

  it('enrols an authenticator app and then asks for its code at sign-in', async () => {
    const user = adminOf(twoFactor);
    const { page, context } = await web.signedInPage(user);
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    await screenshot(page, 'two-factor');
    await expectNoSeriousA11yViolations(page);

    await page.getByLabel('Authentication code').fill(totp.generate());
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    expect(await page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('User name').waitFor();
    await submitSignIn(page, user.user, user.password);
    const codeField = page.getByLabel('Authentication code');
    await codeField.waitFor();
    // A code is good once: the one used to enrol is spent, the next step's code is accepted.
    await codeField.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
