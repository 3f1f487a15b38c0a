import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { itemsOf } from '../support/billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { deprovisionUser, reprovisionUser } from '../../src/provisioning/user-lifecycle.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { billPeriods } from '../../src/billing/periods/bill-periods.js';

let t: TestContext;
let acme: Tenant;
let carol: User;

beforeAll(async () => {
  t = await openTestContext();
  acme = await makeTenant(t.db, t.admin, { fullname: 'Acme Deprovision' });
  carol = (await inTransaction(t.db, (tx) => createUser(tx, t.admin, acme.customer, { name: 'carol' }))).user;
});
afterAll(() => t.close());

const userLines = async (end: string, userId: number) =>
  (await itemsOf(t.db, end)).filter((i) => i.user_id === userId && i.user_service_id === null);

describe('billing of a de-provisioned user', () => {
  it("ends the user's own line when it is de-provisioned, and opens a new one when it is re-provisioned", async () => {
    await sql`update users set status = 'Provisioned' where id = ${carol.id}`.execute(t.db);
    await inTransaction(t.db, (tx) => deprovisionUser(tx, t.admin, acme.customer, { id: carol.id }));
    await runBilling(t.db, t.admin, {});
    const [open] = (await billPeriods(t.db)).filter((p) => p.status === 'open');
    const end = open!.endDate;
    const afterDeprovision = await userLines(end, carol.id);
    expect(afterDeprovision).toHaveLength(1);
    expect(afterDeprovision[0]!.ended_at).not.toBeNull();

    await sql`update users set status = 'NotProvisioned' where id = ${carol.id}`.execute(t.db);
    await inTransaction(t.db, (tx) => reprovisionUser(tx, t.admin, acme.customer, { id: carol.id }));
    await runBilling(t.db, t.admin, {});
    const lines = await userLines(end, carol.id);
    expect(lines).toHaveLength(2);
    expect(lines.filter((l) => l.ended_at === null)).toHaveLength(1);
  });
});
