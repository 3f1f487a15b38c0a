import { beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { setApprovalProviders } from '../../src/approvals/approval-settings.service.js';
import { makeResellerTree, type ResellerTree } from '../support/fixtures.js';
import { adminOf, expectNoSeriousA11yViolations, pageErrors, screenshot, useConsole } from './support.js';

describe('approving a held change', () => {
  const web = useConsole({ provisioning: true });
  let tree: ResellerTree;
  beforeAll(async () => {
    tree = await makeResellerTree(web.server.t.db, web.server.t.admin);
    // seed 000: the customer's Workflow Managers approve every new user.
    await inTransaction(web.server.t.db, (tx) =>
      setApprovalProviders(tx, web.server.t.admin, tree.customerA.customer, [
        { name: 'Workflow Managers', subscriptions: [{ target: 'users', event: 'Provision', access: 'Object' }] },
      ]),
    );
  });

  it("holds a new user as Pending until the customer's manager approves it with a comment", async () => {
    const admin = await web.signedInPage();
    await admin.page.goto(`/customers/${tree.customerA.customer.id}?tab=users`);
    await admin.page.getByRole('button', { name: 'New user' }).click();
    const create = admin.page.getByRole('dialog');
    await create.getByLabel(/^User name/).fill('needsok');
    await create.getByLabel(/^First name/).fill('Needs');
    await create.getByLabel(/^Last name/).fill('Approval');
    await create.getByRole('button', { name: 'Create user' }).click();
    await create.getByRole('link', { name: 'Open the user' }).click();
    const userState = admin.page.getByTestId('user-state');
    await userState.locator('[data-status="Pending"]').waitFor();
    expect(await userState.textContent()).toContain('Pending Approval');

    const manager = await web.signedInPage(adminOf(tree.customerA));
    await manager.page.getByRole('link', { name: 'Approvals' }).click();
    const card = manager.page.getByRole('article', { name: /Provision User/ });
    await card.waitFor();
    await screenshot(manager.page, 'approvals');
    await expectNoSeriousA11yViolations(manager.page);

    // The held request shows as Pending.
    await card.getByRole('link', { name: /^#\d+$/ }).click();
    await manager.page.getByTestId('request-state').locator('[data-status="Pending"]').waitFor();
    await manager.page.goBack();

    await manager.page
      .getByRole('article', { name: /Provision User/ })
      .getByRole('button', { name: 'Approve' })
      .click();
    const dialog = manager.page.getByRole('dialog', { name: 'Approve this change?' });
    await dialog.getByLabel('Comment').fill('Fine by me');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await manager.page.getByText('Nothing is waiting for your approval.').waitFor();
    await manager.page.getByText('All, decided too').click();
    await manager.page.getByText('“Fine by me”', { exact: false }).waitFor();

    // The administrator's open user page moves on by itself once the approved request runs.
    await userState.locator('[data-status="Provisioned"]').waitFor();
    expect(pageErrors(admin.page)).toEqual([]);
    expect(pageErrors(manager.page)).toEqual([]);
    await admin.context.close();
    await manager.context.close();
  });
});
