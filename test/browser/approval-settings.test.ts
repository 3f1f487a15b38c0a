import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { approvalProvidersOf } from '../../src/approvals/approval-settings.service.js';
import { inTransaction } from '../../src/core/db/database.js';
import { provisionCustomerService } from '../../src/services/service-assignment.service.js';
import { getCustomer } from '../../src/tenancy/customer.service.js';
import { makeResellerTree, resell, type ResellerTree } from '../support/fixtures.js';
import { adminOf, expectNoSeriousA11yViolations, pageErrors, useConsole } from './support.js';

async function choose(page: Page, label: string, option: string): Promise<void> {
  await page.getByRole('combobox', { name: label }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

describe('editing approval settings', () => {
  const web = useConsole();
  let tree: ResellerTree;
  beforeAll(async () => {
    tree = await makeResellerTree(web.server.t.db, web.server.t.admin);
    // Customer A's catalog: what its reseller resells.
    await resell(web.server.t.db, web.server.t.admin, tree.resellerA, ['HE', 'DNS', 'CRM2011']);
  });

  const stored = async () => {
    const customer = await getCustomer(web.server.t.db, web.server.t.admin, { id: tree.customerA.customer.id });
    return approvalProvidersOf(web.server.t.db, web.server.t.admin, customer);
  };

  it("a customer administrator sets who approves its customer's changes, with bad input refused next to the field", async () => {
    const { page, context } = await web.signedInPage(adminOf(tree.customerA));
    await page.goto(`/customers/${tree.customerA.customer.id}?tab=approvals`);
    await page.getByRole('button', { name: 'Edit Workflow Managers' }).click();
    const form = page.getByRole('form', { name: 'Edit Workflow Managers' });
    await form.getByLabel('Managers who must approve').fill('two');
    await choose(page, 'Users: Provision', 'Needs approval');
    await form.getByRole('button', { name: 'Save approval settings' }).click();
    await form.getByText('Enter a whole number, or leave it empty').waitFor();
    expect((await stored()).find((p) => p.name === 'Workflow Managers')!.subscriptions).toEqual([]);
    // Nothing typed is lost: fix the one field and save.
    expect(await page.getByRole('combobox', { name: 'Users: Provision' }).inputValue()).toBe('Needs approval');
    await form.getByLabel('Managers who must approve').fill('2');
    await expectNoSeriousA11yViolations(page);
    await form.getByRole('button', { name: 'Save approval settings' }).click();
    await form.waitFor({ state: 'detached' });
    const managers = page.getByRole('region', { name: 'Approval provider Workflow Managers' });
    await managers.getByText('Settings: managers 2').waitFor();
    await managers.getByRole('table', { name: 'Subscriptions of Workflow Managers' }).getByText('Provision', { exact: true }).waitFor();
    const saved = (await stored()).find((p) => p.name === 'Workflow Managers')!;
    expect(saved.configuration).toEqual({ managers: '2' });
    expect(saved.subscriptions).toContainEqual({ target: 'users', event: 'Provision', access: 'Object' });

    // Workflow Groups: a new group with a member; an unknown member is the server's message, typed values kept.
    await page.getByRole('button', { name: 'Edit Workflow Groups' }).click();
    const groups = page.getByRole('form', { name: 'Edit Workflow Groups' });
    await groups.getByRole('button', { name: 'Add group' }).click();
    await groups.getByLabel(/^Group name/).fill('Finance');
    const members = groups.getByLabel('Members', { exact: true });
    await members.fill('nobody_here');
    await members.press('Enter');
    await groups.getByLabel('Members who must approve').fill('1');
    await groups.getByRole('button', { name: 'Save approval settings' }).click();
    await expect.poll(() => groups.getByRole('alert').textContent()).toMatch(/User 'nobody_here' not found/);
    expect(await groups.getByLabel(/^Group name/).inputValue()).toBe('Finance');
    // The unknown member goes (Backspace in the empty box removes the last one), the right one is added.
    await members.press('Backspace');
    await members.fill(tree.customerA.adminUser.name);
    await members.press('Enter');
    await groups.getByRole('button', { name: 'Save approval settings' }).click();
    await groups.waitFor({ state: 'detached' });
    await page.getByText('Group Finance').waitFor();
    const group = (await stored()).find((p) => p.name === 'Workflow Groups')!.groups!.find((g) => g.name === 'Finance')!;
    expect(group.members.map((m) => m.name)).toEqual([tree.customerA.adminUser.name]);
    expect(group.configuration).toEqual({ memberstoapprove: '1' });
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });

  it('a subscription for one service is added, holds only that service, and is removed', async () => {
    const { page, context } = await web.signedInPage(adminOf(tree.customerA));
    await page.goto(`/customers/${tree.customerA.customer.id}?tab=approvals`);
    await page.getByRole('button', { name: 'Edit Workflow Managers' }).click();
    const form = page.getByRole('form', { name: 'Edit Workflow Managers' });
    const table = form.getByRole('table', { name: 'Changes of one service Workflow Managers approves' });
    await form.getByRole('button', { name: 'Add a subscription for one service' }).click();
    await page.getByRole('combobox', { name: 'Subscription 1: service' }).fill('Hosted');
    await page.getByRole('option', { name: 'Hosted Exchange', exact: true }).click();
    await form.getByRole('button', { name: 'Add a subscription for one service' }).click();
    await choose(page, 'Subscription 2: service', 'Customer Relationship Management 2011');
    await choose(page, 'Subscription 2: Deprovision', 'Needs approval');
    await expectNoSeriousA11yViolations(page);

    // The catalog changes under the open form: the server's "not found" shows at that row's service, nothing is lost.
    await web.server.t.db.updateTable('services').set({ fullname: 'CRM Online' }).where('code', '=', 'CRM2011').execute();
    await form.getByRole('button', { name: 'Save approval settings' }).click();
    await table.getByText("Service 'Customer Relationship Management 2011' not found.").waitFor();
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('combobox', { name: 'Subscription 1: service' }).inputValue()).toBe('Hosted Exchange');
    expect(await page.getByRole('combobox', { name: 'Subscription 2: Deprovision' }).inputValue()).toBe('Needs approval');
    const serviceSpecific = async () =>
      (await stored()).find((p) => p.name === 'Workflow Managers')!.subscriptions.filter((s) => s.service && s.service !== 'All');
    expect(await serviceSpecific()).toEqual([]);
    await table.getByRole('button', { name: 'Remove subscription 2 (Customer Relationship Management 2011)' }).click();
    await form.getByRole('button', { name: 'Save approval settings' }).click();
    await form.waitFor({ state: 'detached' });

    await page.reload();
    const managers = page.getByRole('region', { name: 'Approval provider Workflow Managers' });
    const saved = managers.getByRole('table', { name: 'Subscriptions of Workflow Managers' });
    await saved.getByRole('row', { name: /services Hosted Exchange Provision Object/ }).waitFor();
    expect(await serviceSpecific()).toEqual([
      { target: 'services', service: 'Hosted Exchange', event: 'Provision', access: 'Object' },
      { target: 'services', service: 'Hosted Exchange', event: 'Deprovision', access: 'None' },
    ]);

    // It takes effect: Hosted Exchange is held for approval, DNS is not.
    const assign = (code: string) =>
      inTransaction(web.server.t.db, (tx) =>
        provisionCustomerService(tx, web.server.t.admin, tree.customerA.customer, { service: { name: code } }),
      );
    expect((await assign('HE')).customerService).toMatchObject({ status: 'Pending', approvalPending: true });
    expect((await assign('DNS')).customerService).toMatchObject({ status: 'Requested', approvalPending: false });

    await managers.getByRole('button', { name: 'Edit Workflow Managers' }).click();
    await form.getByRole('button', { name: 'Remove subscription 1 (Hosted Exchange)' }).click();
    await form.getByText('None: only the changes of all services above ask for approval.').waitFor();
    await form.getByRole('button', { name: 'Save approval settings' }).click();
    await form.waitFor({ state: 'detached' });
    expect(await serviceSpecific()).toEqual([]);
    expect(await saved.getByText('Hosted Exchange').count()).toBe(0);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});
