import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoSeriousA11yViolations, pageErrors, screenshot, useConsole } from './support.js';

/** Marks the loaded document: still there later means the page changed without a reload. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { tenantryMark: string }).tenantryMark = 'same document'));
}
async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { tenantryMark?: string }).tenantryMark === 'same document');
}
const status = (page: Page, testId: string) => page.getByTestId(testId).locator('[data-status]').first().getAttribute('data-status');

describe('provisioning from the console', () => {
  const web = useConsole();
  let page: Page;
  let customerUrl = '';
  beforeAll(async () => {
    // The provisioning engine starts in the first test, once the new customer is on screen.
    await web.server.t.db
      .updateTable('services')
      .set({ driver: 'simulated', driver_config: JSON.stringify({}) })
      .execute();
    ({ page } = await web.signedInPage());
  });

  it('creates a customer and shows it Provisioned without a reload', async () => {
    await page.goto('/customers');
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel(/^Full name/).fill('Contoso Pharma');
    await dialog.getByLabel(/^Primary domain/).fill('contoso-pharma.example');
    await dialog.getByLabel(/^Contact name/).fill('Dana Contoso');
    await dialog.getByLabel(/^Contact email/).fill('dana@contoso-pharma.example');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    await page.getByRole('heading', { name: /^Contoso Pharma \(/ }).waitFor();
    customerUrl = new URL(page.url()).pathname;
    await markDocument(page);
    expect(await status(page, 'customer-state')).toBe('Requested');
    await web.server.startProvisioning();
    await page.getByTestId('customer-state').locator('[data-status="Provisioned"]').waitFor();
    expect(await sameDocument(page)).toBe(true);
  });

  it('assigns Hosted Exchange to the customer, creates a user with a generated password and gives it a mailbox', async () => {
    await page.goto(customerUrl);
    await page.getByRole('tab', { name: 'Services' }).click();
    await page.getByRole('button', { name: 'Assign service' }).click();
    const assign = page.getByRole('dialog');
    await assign.getByLabel('Service').click();
    await page.getByRole('option', { name: 'Hosted Exchange (HE)' }).click();
    await assign.getByRole('button', { name: 'Assign service' }).click();
    const card = page.getByRole('region', { name: 'Service Hosted Exchange' });
    await card.locator('[data-status="Provisioned"]').waitFor();

    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'New user' }).click();
    const create = page.getByRole('dialog');
    await create.getByLabel(/^User name/).fill('alice');
    await create.getByLabel(/^First name/).fill('Alice');
    await create.getByLabel(/^Last name/).fill('Archer');
    await create.getByRole('button', { name: 'Create user' }).click();
    const shown = await create.getByTestId('shown-password').textContent();
    expect(shown?.length).toBeGreaterThanOrEqual(12);
    await screenshot(page, 'user-created');
    await create.getByRole('link', { name: 'Open the user' }).click();
    await page.getByRole('heading', { name: /^alice_/ }).waitFor();
    // Shown once: the user's page has no trace of it.
    expect(await page.getByText(shown!).count()).toBe(0);

    await page.getByRole('tab', { name: 'Services' }).click();
    await page.getByRole('button', { name: 'Assign service' }).click();
    const give = page.getByRole('dialog');
    await give.getByLabel('Service').click();
    await page.getByRole('option', { name: 'Hosted Exchange (HE)' }).click();
    await give.getByLabel('User plan').click();
    await page.getByRole('option', { name: /^Ex10 Basic/ }).click();
    await give.getByRole('button', { name: 'Assign service' }).click();
    const services = page.getByRole('table', { name: /^Services of alice_/ });
    await services.getByText('Ex10 Basic (Ex10Basic)').waitFor();
    await services.locator('[data-status="Provisioned"]').waitFor();
    await expectNoSeriousA11yViolations(page);
  });

  it('shows the request log with its lines and step times', async () => {
    await page.goto('/requests?entity=user_service');
    await page
      .getByRole('table', { name: 'Provisioning requests' })
      .getByText(/User service HE for alice_/)
      .waitFor();
    await page.getByRole('table', { name: 'Provisioning requests' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Request #\d+$/ }).waitFor();
    const log = page.getByRole('table', { name: 'Request log' });
    await log
      .getByText(/Simulated provisioning: provision service HE for user alice_/)
      .first()
      .waitFor();
    await page.getByRole('table', { name: 'Step times' }).getByText('driver', { exact: true }).waitFor();
    expect(await status(page, 'request-state')).toBe('Provisioned');
  });

  it('retries a failed request after the fault is fixed, and shows the outcome live', async () => {
    await web.server.t.db
      .updateTable('services')
      .set({ driver_config: JSON.stringify({ failureRate: 1, transient: false }) })
      .where('code', '=', 'Citrix')
      .execute();
    await page.goto(customerUrl);
    await page.getByRole('tab', { name: 'Services' }).click();
    await page.getByRole('button', { name: 'Assign service' }).click();
    const assign = page.getByRole('dialog');
    await assign.getByLabel('Service').click();
    await page.getByRole('option', { name: 'Citrix (Citrix)' }).click();
    await assign.getByRole('button', { name: 'Assign service' }).click();
    await page.getByRole('region', { name: 'Service Citrix' }).locator('[data-status="Failed"]').waitFor();

    await page.goto('/requests?status=Failed');
    await page.getByRole('table', { name: 'Provisioning requests' }).getByText('Customer service Citrix').first().waitFor();
    await page.getByRole('table', { name: 'Provisioning requests' }).getByRole('link').first().click();
    await page.getByTestId('request-state').locator('[data-status="Failed"]').waitFor();
    await page.getByRole('table', { name: 'Request log' }).getByText('error', { exact: true }).first().waitFor();
    await screenshot(page, 'request-failed');
    await markDocument(page);

    // The operator fixes the system behind the service, then retries from the console.
    await web.server.t.db
      .updateTable('services')
      .set({ driver_config: JSON.stringify({ failureRate: 0 }) })
      .where('code', '=', 'Citrix')
      .execute();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('request-state').locator('[data-status="Provisioned"]').waitFor();
    expect(await sameDocument(page)).toBe(true);
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(pageErrors(page)).toEqual([]);
  });
});
