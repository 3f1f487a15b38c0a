import { describe, expect, it } from 'vitest';
import { expectNoSeriousA11yViolations, pageErrors, screenshot, useConsole } from './support.js';

describe('the console frame in Chromium', () => {
  const web = useConsole();

  it('shows the sign-in page at / to someone not signed in', async () => {
    const { page, context } = await web.newPage();
    await page.goto('/');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByRole('heading', { name: 'Sign in to Tenantry' }).waitFor();
    expect(await page.title()).toBe('Sign in · Tenantry');
    await screenshot(page, 'sign-in');
    await expectNoSeriousA11yViolations(page);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('loads a deep link directly and keeps it to return to after signing in', async () => {
    const { page, context } = await web.newPage();
    await page.goto('/customers/42');
    await expect.poll(() => page.url()).toBe(`${web.server.url}/sign-in?next=%2Fcustomers%2F42`);
    await page.getByLabel('User name').waitFor();
    await context.close();
  });

  it('reaches every sign-in field and the button with the keyboard alone', async () => {
    const { page, context } = await web.newPage();
    await page.goto('/sign-in');
    await page.getByLabel('User name').waitFor();
    // The user name field has focus on arrival; Tab walks to the password, then to the button.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('autocomplete'))).toBe('username');
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('autocomplete'))).toBe('current-password');
    const focused: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect(focused).toContain('Sign in');
    expect(await page.getByLabel('User name').inputValue()).toBe('admin');
    await context.close();
  });
});
