import fs from 'node:fs';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { loadDemo } from '../../src/demo/demo.js';
import { demoJobs, startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { jobsEnv } from '../../src/jobs/env.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { setRoles } from '../../src/tenancy/user.service.js';
import {
  expectNoSeriousA11yViolations,
  launchChromium,
  newConsolePage,
  pageErrors,
  screenshot,
  signIn,
  startConsoleServer,
  type ConsoleServer,
} from './support.js';

/** Picks an option of a Mantine Select by its label. */
async function choose(page: Page, label: string | RegExp, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).click();
}

async function download(page: Page, button: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: button }).click()]);
  return fs.readFileSync((await file.path())!);
}

describe('console part 2 in Chromium: Password page, Jobs, run logs, billing reports and configuration', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let demo: PsaDemo;
  let resellerAdmin: string;
  let page: Page;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    [server, browser, demo] = await Promise.all([startConsoleServer(), launchChromium(), startPsaDemo()]);
    const { t } = server;
    await loadDemo(t.ctx, t.admin, { password: 'Demo-Passw0rd!' });
    await runBilling(t.db, t.admin, {});
    const nw = await t.db.selectFrom('users').select(['id', 'name']).where('name', 'like', 'nwadmin\\_%').executeTakeFirstOrThrow();
    await inTransaction(t.db, (tx) => setRoles(tx, t.admin, nw.id, ['Reseller Administrator']));
    resellerAdmin = nw.name;
    const opened = await newConsolePage(browser, server);
    page = opened.page;
    closers.push(() => opened.context.close());
    await signIn(page);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await browser?.close();
    await demo?.stop();
    await server?.close();
  });

  it('generates an API token shown once with a warning, and the token reads /api/Billing/parameters', async () => {
    await page.goto('/account/password');
    await page.getByLabel('Label').fill('Power BI');
    await page.getByRole('button', { name: 'Generate' }).click();
    const token = (await page.getByTestId('token-value').textContent())!.trim();
    await expect.poll(() => page.getByTestId('new-token').textContent()).toMatch(/will not be shown again/);
    const res = await fetch(`${server.url}/api/Billing/parameters`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { endDates: unknown[] } }).data.endDates.length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.reload();
    await page.getByRole('table', { name: 'Your API tokens' }).getByText('Power BI').waitFor();
    expect(await page.getByRole('table', { name: 'Your API tokens' }).textContent()).not.toContain(token);
    await screenshot(page, 'password');
    await expectNoSeriousA11yViolations(page);
  });

  it('creates an Autotask job against the simulator with a CRON preview, dry-runs it and shows the diff', async () => {
    const at = demoJobs(demo)[0]!;
    await page.goto('/jobs/new');
    await page.getByLabel('Label', { exact: false }).first().fill('Autotask (simulator)');
    await choose(page, 'Task', 'Autotask PSA');
    await page.getByLabel('CRON expression').fill('0 22 26 * *');
    await expect.poll(() => page.getByTestId('cron-preview').textContent()).toMatch(/At 22:00, on day 26 of the month/);
    await page.getByLabel('Configuration').fill('{"BillingPeriod": "Someday"}');
    await expect.poll(() => page.getByTestId('parameter-check').textContent()).toMatch(/— Parameter BillingPeriod must be/);
    await page.getByLabel('Configuration').fill(JSON.stringify(at.parameters, null, 2));
    await expect.poll(() => page.getByTestId('parameter-check').textContent()).toMatch(/The configuration is valid/);
    const secrets = at.secrets as Record<string, string>;
    for (const [name, value] of Object.entries(secrets)) await page.getByLabel(name, { exact: true }).fill(value);
    await screenshot(page, 'job-editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('table', { name: 'Jobs' }).getByText('Autotask (simulator)').waitFor();
    await screenshot(page, 'jobs');
    await expectNoSeriousA11yViolations(page);

    await page.getByRole('button', { name: 'Actions for Autotask (simulator)' }).click();
    await page.getByRole('menuitem', { name: 'Dry run' }).click();
    await page.getByRole('table', { name: 'Dry run changes' }).waitFor();
    const diff = await page.getByRole('table', { name: 'Dry run changes' }).textContent();
    expect(diff).toMatch(/→/);
    await screenshot(page, 'dry-run');
  });

  it('runs the job, opens its log from Last Run Result, sorts by code, searches AT10 and downloads CSV and Excel', async () => {
    await page.goto('/jobs');
    await page.getByRole('button', { name: 'Actions for Autotask (simulator)' }).click();
    await page.getByRole('menuitem', { name: 'Run Now' }).click();
    await page.getByText(/queued to run now/).waitFor();
    // The scheduler's part: pick the queued run up and finish it.
    const runner = new JobRunner(server.t.ctx, await jobsEnv(server.t.ctx));
    await runner.tick();
    await runner.drain();
    await page.reload();
    await page.getByRole('link', { name: 'Log of the last run of Autotask (simulator)' }).click();
    await page.getByTestId('log-row').first().waitFor();
    const codes = async () => page.getByTestId('log-code').allTextContents();
    await page.getByRole('button', { name: /^Sort by Code/ }).click();
    await expect
      .poll(async () => {
        const c = await codes();
        return c.join() === [...c].sort().join() && c[0] !== undefined;
      })
      .toBe(true);
    await page.getByRole('button', { name: /^Sort by Code/ }).click();
    await expect
      .poll(async () => {
        const c = await codes();
        return c.join() === [...c].sort().reverse().join();
      })
      .toBe(true);
    await screenshot(page, 'run-log');
    await expectNoSeriousA11yViolations(page);

    await page.getByLabel('Search code and message').fill('AT10');
    await expect
      .poll(async () => {
        const c = await codes();
        return c.length > 0 && c.every((x) => x === 'AT10');
      })
      .toBe(true);
    const shown = (await codes()).length;
    const csv = (await download(page, 'Download CSV')).toString('utf8').trim().split('\r\n');
    expect(csv[0]).toBe('Time,Code,Level,Message');
    expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(Array(shown).fill('AT10'));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await download(page, 'Download Excel')) as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.rowCount).toBe(shown + 1);
    expect(sheet.getCell('B2').value).toBe('AT10');
    expect(sheet.getCell('A2').value).toBeInstanceOf(Date);
  });

  it("sets a user plan's SKU, reprocesses with live progress, and the billing detail shows the new SKU", async () => {
    await page.goto('/billing/configuration');
    await page.getByRole('button', { name: 'Edit SKU of HE: User plan Ex10 Basic (Ex10Basic)' }).click();
    await page.getByLabel('SKU', { exact: true }).fill('29683412');
    await page.getByRole('button', { name: 'Save SKU' }).click();
    await page.getByRole('table', { name: 'SKUs' }).getByText('29683412').waitFor();
    await screenshot(page, 'billing-configuration-skus');
    await expectNoSeriousA11yViolations(page);

    await page.getByRole('tab', { name: 'Reprocess Billing Records' }).click();
    await page.getByRole('button', { name: 'Reprocess Billing Records' }).click();
    await expect.poll(() => page.getByTestId('reprocess-progress').textContent(), { timeout: 60_000 }).toMatch(/Reprocess finished.*items/);
    await screenshot(page, 'billing-reprocess');

    await page.getByRole('tab', { name: 'Billing rules' }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Description').fill('Trial customers');
    await page.getByLabel('Override reason').fill('Trial');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('table', { name: 'Billing rules' }).getByText('Trial customers').waitFor();
    await screenshot(page, 'billing-rules');
    await page.getByRole('button', { name: /^Delete$/ }).click();
    await page.getByRole('button', { name: 'Delete rule' }).click();
    await page.getByText('No rules: every item is billable with its own SKU.').waitFor();

    await page.getByRole('tab', { name: 'Bill period settings' }).click();
    await choose(page, 'Period kind', 'Starts on a fixed day of the month');
    await page.getByLabel(/Start day/).fill('26');
    await expect.poll(() => page.getByTestId('period-preview').textContent()).toMatch(/-26 to/);
    await screenshot(page, 'billing-periods');

    await page.goto('/billing');
    await page.getByRole('tab', { name: 'Detail' }).click();
    await page.getByTestId('detail-row').first().waitFor();
    await page.getByLabel('Service search').fill('HE');
    await expect.poll(async () => (await page.getByRole('table', { name: 'Billing detail' }).textContent()) ?? '').toContain('29683412');
    await screenshot(page, 'billing-detail');
  });

  it('shows the billing report with charts, and a reseller admin sees its subtree only', async () => {
    await page.goto('/billing');
    await page.getByTestId('summary-row').first().waitFor();
    await page.getByTestId('sku-units-chart').locator('.recharts-line').first().waitFor({ state: 'attached' });
    await expect.poll(() => page.getByTestId('sku-units-chart').textContent()).toContain('29683412');
    expect(await page.getByRole('table', { name: 'Billing summary' }).textContent()).toContain('Tailspin Toys');
    await screenshot(page, 'billing-report');
    await expectNoSeriousA11yViolations(page);

    const other = await newConsolePage(browser, server);
    closers.push(() => other.context.close());
    await signIn(other.page, { user: resellerAdmin, password: 'Demo-Passw0rd!' });
    await other.page.goto('/billing');
    await other.page.getByTestId('summary-row').first().waitFor();
    const text = (await other.page.getByRole('table', { name: 'Billing summary' }).textContent()) ?? '';
    expect(text).toContain('Fabrikam');
    expect(text).not.toContain('Tailspin Toys');
    expect(pageErrors(page)).toEqual([]);
    expect(pageErrors(other.page)).toEqual([]);
  });
});
