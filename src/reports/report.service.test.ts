import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../../test/support/test-db.js';
import { makeResellerTree, type ResellerTree } from '../../test/support/fixtures.js';
import { findReports, runReport } from './report.service.js';
import { assertReportSqlIsScoped } from './report-sql.js';
import { relationNames } from './report.queries.js';
import { TEST_ENGINE } from '../../test/support/engine.js';

let t: TestContext;
let tree: ResellerTree;

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
});
afterAll(() => t.close());

describe('reports', () => {
  it('lists the seeded Customers reports with their parameters', async () => {
    const reports = await findReports(t.db, t.admin);
    expect(reports.map((r) => r.name)).toEqual(expect.arrayContaining(['Customers with Query', 'Customers with Stored Procedure']));
    expect(reports.find((r) => r.name === 'Customers with Query')!.parameters.map((p) => p.name)).toEqual(['Name']);
  });

  it('runs Customers with Stored Procedure with a LIKE parameter, ordered by name', async () => {
    const result = await runReport(t.db, t.admin, { name: 'Customers with Stored Procedure', parameters: { Name: 'R%' } });
    expect(result.columns.map((c) => c.name)).toEqual([
      'CustomerID',
      'LocationID',
      'Name',
      'Label',
      'BillingID',
      'PrimaryDomain',
      'StatusID',
    ]);
    expect(result.rows.map((r) => r[3])).toEqual(['Reseller Alpha', 'Reseller Beta']);
  });

  it('keeps a reseller inside its own subtree', async () => {
    const result = await runReport(t.db, tree.resellerA.admin, { name: 'Customers with Query', parameters: { Name: '%' } });
    expect(result.rows.map((r) => r[2]).sort()).toEqual(['Customer Alpha One', 'Reseller Alpha']);
    const users = await runReport(t.db, tree.resellerA.admin, { name: 'Users' });
    expect(new Set(users.rows.map((r) => r[1]))).toEqual(new Set([tree.resellerA.customer.name, tree.customerA.customer.name]));
  });

  it('a customer admin sees only its own customer', async () => {
    const result = await runReport(t.db, tree.customerA.admin, { name: 'Customers with Query' });
    expect(result.rows.map((r) => r[1])).toEqual([tree.customerA.customer.name]);
  });

  it('selects columns', async () => {
    const result = await runReport(t.db, t.admin, {
      name: 'Customers with Query',
      columns: ['Name', 'CustomerID'],
      parameters: { Name: tree.direct.customer.name },
    });
    expect(result.columns.map((c) => c.name)).toEqual(['Name', 'CustomerID']);
    expect(result.rows).toEqual([[tree.direct.customer.name, tree.direct.customer.id]]);
  });

  it('refuses a report query that names a table, a catalog or an unsafe function', async () => {
    const names = await relationNames(t.db);
    const bad = [
      'select * from customers',
      'select * from public.customers',
      'select * from "customers"',
      'select * from pg_catalog.pg_authid',
      "select query_to_xml('select * from users', true, true, '')",
      "select set_config('x', 'y', true)",
      'select 1; delete from customers',
      'select $1',
      'select * from scoped_customers /* nested /* */ */ join users on true',
      "select E'\\'' , * from users",
      'select * from information_schema.tables',
    ];
    for (const q of bad) expect(() => assertReportSqlIsScoped(q, names), q).toThrow(/report query/i);
    expect(() => assertReportSqlIsScoped("select name, 'users' from scoped_customers where name ilike @Name", names)).not.toThrow();
  });

  it('stops a report whose rows stream at its timeout on either engine', async () => {
    await t.db
      .insertInto('reports')
      .values({
        name: 'Endless',
        query:
          'select a.name from scoped_customers a, scoped_customers b, scoped_customers c, scoped_customers d, scoped_customers e, scoped_customers f, scoped_customers g, scoped_customers h',
        parameters: '[]',
        columns: JSON.stringify([{ name: 'Name', type: 'string' }]),
      })
      .execute();
    await expect(runReport(t.db, t.admin, { name: 'Endless', timeoutMs: 50 })).rejects.toThrow(/did not finish within 50 ms/);
  });

  it.runIf(TEST_ENGINE === 'postgres')('stops a report at its timeout', async () => {
    await t.db
      .insertInto('reports')
      .values({
        name: 'Slow',
        query:
          'select count(*) from scoped_customers a, scoped_customers b, scoped_customers c, scoped_customers d, scoped_customers e, scoped_customers f, scoped_customers g, scoped_customers h, scoped_customers i',
        parameters: '[]',
        columns: JSON.stringify([{ name: 'N', type: 'int' }]),
      })
      .execute();
    await expect(runReport(t.db, t.admin, { name: 'Slow', timeoutMs: 1 })).rejects.toThrow(/did not finish within 1 ms/);
  });
});
