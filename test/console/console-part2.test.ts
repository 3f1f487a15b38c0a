import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import ExcelJS from 'exceljs';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import { PASSWORD, type ResellerTree } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { ConsoleClient } from './support.js';

let setup: ConsoleTestApp;
let app: FastifyInstance;
let tree: ResellerTree;
let alice: User;
let bob: User;
let admin: ConsoleClient;
let reseller: ConsoleClient;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const now = new Date();
const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 2, 9)).toISOString();

async function workbook(body: Buffer): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(body as unknown as ArrayBuffer);
  return wb.worksheets[0]!;
}

beforeAll(async () => {
  setup = await consoleTestApp(async (t, tree) => {
    alice = (
      await inTransaction(t.db, (tx) =>
        createUser(tx, t.admin, tree.customerA.customer, {
          name: 'alice',
          password: { password: PASSWORD },
          roles: ['Customer Administrator', 'Service Provider Developer'],
        }),
      )
    ).user;
    bob = (
      await inTransaction(t.db, (tx) =>
        createUser(tx, t.admin, tree.customerB.customer, {
          name: 'bob',
          password: { password: PASSWORD },
          roles: ['Customer Administrator'],
        }),
      )
    ).user;
    const he = (await getService(t.db, { name: 'HE' })).id;
    const mailbox = (u: User, id: number) => ({
      customerId: u.customerId,
      userId: u.id,
      serviceId: he,
      userServiceId: id,
      customerServiceId: 9000 + id,
      planCode: 'Ex10Basic',
      planName: 'Ex10 Basic',
      sku: 'HE-MBX-BASIC',
    });
    // Calendar months in UTC; the ledger starts two months ago so there are closed periods to chart.
    await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, month(-2));
    await ledger(t.db, t.admin, [
      { at: month(-2), action: 'user_service_added', ...mailbox(alice, 1) },
      { at: month(-1), action: 'user_service_added', ...mailbox(bob, 2) },
      { at: month(0), action: 'user_service_added', ...mailbox(bob, 3) },
    ]);
    await runBilling(t.db, t.admin, {});
  });
  ({ tree, app } = setup);
  admin = await setup.signInAdmin();
  reseller = await setup.signIn(tree.resellerB.adminUser.name);
});
afterAll(() => setup?.close());

describe('Password page', () => {
  it("changes the own password only with the current one, and ends the user's other sessions", async () => {
    const me = new ConsoleClient(app);
    const other = new ConsoleClient(app);
    await me.signIn(alice.name, PASSWORD);
    await other.signIn(alice.name, PASSWORD);
    const wrong = await me.post('/api/console/account/password', { currentPassword: 'nope', newPassword: 'N3w-Passw0rd!' });
    expect([wrong.statusCode, wrong.json().error.field]).toEqual([400, 'currentPassword']);
    const short = await me.post('/api/console/account/password', { currentPassword: PASSWORD, newPassword: 'short' });
    expect([short.statusCode, short.json().error.field]).toEqual([400, 'newPassword']);
    expect((await me.post('/api/console/account/password', { currentPassword: PASSWORD, newPassword: 'N3w-Passw0rd!' })).statusCode).toBe(
      200,
    );
    expect((await me.get('/api/console/session')).statusCode).toBe(200);
    expect((await other.get('/api/console/session')).statusCode).toBe(401);
    expect((await new ConsoleClient(app).signIn(alice.name, PASSWORD)).statusCode).toBe(401);
    expect((await new ConsoleClient(app).signIn(alice.name, 'N3w-Passw0rd!')).statusCode).toBe(200);
  });

  it('generates a token shown once, lists it with its last use, and deletes it', async () => {
    const me = new ConsoleClient(app);
    await me.signIn(alice.name, 'N3w-Passw0rd!');
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await me.post('/api/console/tokens', { label: 'Power BI', expiresAt });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, id } = created.json();
    const used = await app.inject({ method: 'GET', url: '/api/Billing/parameters', headers: { authorization: `Bearer ${token}` } });
    expect(used.statusCode).toBe(200);
    const list = (await me.get('/api/console/tokens')).json().tokens;
    expect(list).toEqual([
      { id, userId: alice.id, label: 'Power BI', createdAt: expect.any(String), expiresAt, lastUsedAt: expect.any(String) },
    ]);
    expect(JSON.stringify(list)).not.toContain(token);
    expect((await me.delete(`/api/console/tokens/${id}`)).statusCode).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: '/api/Billing/parameters', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(401);
  });

  it('refuses a token to a user without "Service Provider Developer", with a label check first', async () => {
    const me = new ConsoleClient(app);
    await me.signIn(bob.name, PASSWORD);
    expect((await me.post('/api/console/tokens', { label: 'x' })).statusCode).toBe(403);
    const noLabel = await me.post('/api/console/tokens', { label: '' });
    expect([noLabel.statusCode, noLabel.json().error.field]).toEqual([400, 'label']);
  });
});

describe('Configuration > Jobs', () => {
  it("previews a CRON expression: the next five runs in the provider's zone and plain words", async () => {
    const res = (await admin.get('/api/console/jobs/schedule?cron=0%2022%2026%20*%20*')).json();
    expect(res.description).toBe('At 22:00, on day 26 of the month');
    expect(res.nextRuns).toHaveLength(5);
    expect(res.nextRuns.every((r: string) => new Date(r).getUTCDate() === 26 && new Date(r).getUTCHours() === 22)).toBe(true);
    const bad = await admin.get('/api/console/jobs/schedule?cron=61%20*%20*%20*%20*');
    expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'cron']);
  });

  it("checks a task's configuration and names every bad parameter", async () => {
    const res = await admin.post('/api/console/jobs/check', {
      task: 'autotask-psa',
      parameters: '{"BillingPeriod":"Someday","Bogus":1,"ZoneUser":"a@b.example"}',
    });
    expect(res.statusCode, res.body).toBe(200);
    const bad = res.json();
    expect(bad.errors.map((e: { field: string }) => e.field)).toEqual(['BillingPeriod', 'Bogus']);
    expect(bad.parameters).toBeNull();
    const good = (await admin.post('/api/console/jobs/check', { task: 'autotask-psa', parameters: { BillingPeriod: 'previous' } })).json();
    expect(good.errors).toEqual([]);
    expect(good.parameters).toMatchObject({ BillingPeriod: 'Previous', ProRatedTransactions: 'False', AllowAtriaCreateItems: 'False' });
    const json = (await admin.post('/api/console/jobs/check', { task: 'autotask-psa', parameters: '{"BillingPeriod":' })).json();
    expect(json.errors[0]).toMatchObject({ field: 'parameters', message: expect.stringMatching(/not valid JSON/) });
  });

  it('dry-runs a job and downloads its log as CSV and as a sheet with a frozen, filtered header and real date-times', async () => {
    const job = (
      await admin.post('/api/console/jobs', { label: 'Nightly billing', task: 'billing-run', cron: '0 1 * * *', logLevel: 'Verbose' })
    ).json();
    const run = await admin.post(`/api/console/jobs/${job.id}/run`, { dryRun: true });
    expect(run.statusCode).toBe(200);
    const runId = run.json().id;
    const entries = (await admin.get(`/api/console/jobs/runs/${runId}/logs?sort=code&order=desc`)).json().entries;
    expect(entries.length).toBeGreaterThan(1);
    expect(entries.map((e: { code: string }) => e.code)).toEqual([...entries.map((e: { code: string }) => e.code)].sort().reverse());
    const csv = await admin.get(`/api/console/jobs/runs/${runId}/logs?format=csv`);
    expect(csv.body.split('\r\n')[0]).toBe('Time,Code,Level,Message');
    const xlsx = await admin.get(`/api/console/jobs/runs/${runId}/logs?format=xlsx`);
    expect(xlsx.headers['content-type']).toBe(XLSX);
    const sheet = await workbook(xlsx.rawPayload);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBeTruthy();
    expect(sheet.getRow(1).values).toEqual([undefined, 'Time', 'Code', 'Level', 'Message']);
    expect(sheet.getCell('A2').value).toBeInstanceOf(Date);
    expect(sheet.rowCount).toBe(entries.length + 1);
  });

  it('keeps jobs to users with "Manage Jobs"', async () => {
    expect((await reseller.get('/api/console/jobs')).statusCode).toBe(403);
  });
});

describe('Reports > Billing', () => {
  it('lists the periods newest first and shows a reseller admin its subtree only', async () => {
    const periods = (await admin.get('/api/console/billing/periods')).json().periods;
    expect(periods.length).toBeGreaterThanOrEqual(3);
    expect(periods[0].status).toBe('open');
    const end = periods[0].endDate;
    const all = (await admin.get(`/api/console/billing/summary?endDate=${end}`)).json().items;
    expect(new Set(all.map((i: { customerCode: string }) => i.customerCode))).toEqual(
      new Set([tree.customerA.customer.name, tree.customerB.customer.name]),
    );
    const mine = (await reseller.get(`/api/console/billing/summary?endDate=${end}`)).json().items;
    expect(
      mine.map((i: { customerCode: string; currentPeriod: string; previousPeriod: string }) => [
        i.customerCode,
        i.previousPeriod,
        i.currentPeriod,
      ]),
    ).toEqual([[tree.customerB.customer.name, '1', '2']]);
    const outside = await reseller.get(`/api/console/billing/summary?endDate=${end}&customerId=${tree.customerA.customer.id}`);
    expect(outside.statusCode).toBe(404);
  });

  it('pages the detail and downloads summary and detail as CSV and Excel', async () => {
    const end = (await admin.get('/api/console/billing/periods')).json().periods[0].endDate;
    const page = (await admin.get(`/api/console/billing/detail?endDate=${end}&limit=2&offset=1`)).json();
    expect([page.total, page.items.length, page.offset]).toEqual([3, 2, 1]);
    expect(Object.keys(page.items[0])).toHaveLength(54);
    const resellerPage = (await reseller.get(`/api/console/billing/detail?endDate=${end}`)).json();
    expect(resellerPage.items.every((i: { customerId: number }) => i.customerId === tree.customerB.customer.id)).toBe(true);

    const csv = await admin.get(`/api/console/billing/summary?endDate=${end}&format=csv`);
    expect(csv.body.replace(/^\ufeff/, '').split('\r\n')[0]).toBe(
      'Customer Code,Customer Name,Customer Account Code,SKU,Billable,Line Description,Previous Period,Change,Current Period',
    );
    const sheet = await workbook((await admin.get(`/api/console/billing/detail?endDate=${end}&format=xlsx`)).rawPayload);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.rowCount).toBe(4);
    const header = sheet.getRow(1).values as string[];
    expect(sheet.getRow(2).getCell(header.indexOf('changeStartDate')).value).toBeInstanceOf(Date);
  });

  it('gives the charts units per SKU over the periods and the customers that changed most', async () => {
    const end = (await admin.get('/api/console/billing/periods')).json().periods[0].endDate;
    const charts = (await admin.get(`/api/console/billing/charts?endDate=${end}`)).json();
    expect(charts.periods.at(-1).endDate).toBe(end);
    expect(charts.skuUnits.filter((p: { sku: string }) => p.sku === 'HE-MBX-BASIC').map((p: { units: string }) => p.units)).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(charts.topChangedCustomers).toEqual([
      expect.objectContaining({ customerCode: tree.customerB.customer.name, previousPeriod: '1', currentPeriod: '2', changed: '1' }),
    ]);
    const theirs = (await reseller.get(`/api/console/billing/charts?endDate=${end}`)).json();
    expect(theirs.skuUnits.filter((p: { sku: string }) => p.sku === 'HE-MBX-BASIC').map((p: { units: string }) => p.units)).toEqual([
      '1',
      '2',
    ]);
  });
});

describe('Reports > Service Billing Configuration', () => {
  it("sets a user plan's SKU and shows it in the detail after a reprocess followed to the end", async () => {
    const he = (await admin.get('/api/console/billing/skus')).json().services.find((s: { code: string }) => s.code === 'HE');
    const plan = he.userPlans.find((p: { name: string }) => p.name === 'Ex10Basic');
    expect((await reseller.put('/api/console/billing/skus', { serviceId: he.id, userPlanId: plan.id, sku: '29683412' })).statusCode).toBe(
      403,
    );
    const set = await admin.put('/api/console/billing/skus', { serviceId: he.id, userPlanId: plan.id, sku: '29683412' });
    expect(set.json()).toMatchObject({ sku: '29683412', defaultSku: 'HE-MBX-BASIC' });

    const started = await admin.post('/api/console/billing/reprocess', { period: 'Current' });
    expect(started.statusCode).toBe(202);
    const runId = started.json().id;
    const events = await admin.get(`/api/console/billing/runs/${runId}/events`);
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events.body).toMatch(/event: done\ndata: .*"status":"succeeded"/);
    const done = (await admin.get(`/api/console/billing/runs/${runId}`)).json();
    expect(done).toMatchObject({ status: 'succeeded', percent: 100, items: 3 });
    expect(done.added).toBeGreaterThan(0);

    const end = (await admin.get('/api/console/billing/periods')).json().periods[0].endDate;
    const detail = (await admin.get(`/api/console/billing/detail?endDate=${end}`)).json().items;
    expect(new Set(detail.map((i: { sku: string }) => i.sku))).toEqual(new Set(['29683412']));
  });

  it('adds, edits, reorders and deletes rules, with errors next to the field', async () => {
    const bad = await admin.post('/api/console/billing/rules', { description: 'x', overrideReason: 'y', effect: 'override_sku' });
    expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'overrideSku']);
    const a = (
      await admin.post('/api/console/billing/rules', {
        description: 'Trial',
        overrideReason: 'Trial',
        effect: 'not_billable',
        customerId: tree.customerB.customer.id,
      })
    ).json();
    const b = (
      await admin.post('/api/console/billing/rules', {
        description: 'No SKU',
        overrideReason: 'No SKU',
        effect: 'not_billable',
        skuCondition: 'absent',
      })
    ).json();
    expect(a.customer).toMatchObject({ id: tree.customerB.customer.id });
    expect((await admin.get('/api/console/billing/rules')).json().rules.map((r: { id: number }) => r.id)).toEqual([b.id, a.id]);
    expect(
      (await admin.put('/api/console/billing/rules/order', { ids: [a.id, b.id] })).json().rules.map((r: { id: number }) => r.id),
    ).toEqual([a.id, b.id]);
    const edited = (
      await admin.put(`/api/console/billing/rules/${a.id}`, {
        description: 'Trial (ends)',
        overrideReason: 'Trial',
        effect: 'not_billable',
        validTo: '2099-12-31',
      })
    ).json();
    expect(edited).toMatchObject({ description: 'Trial (ends)', validTo: '2099-12-31', customer: null, processingOrder: 2 });
    expect((await admin.delete(`/api/console/billing/rules/${b.id}`)).statusCode).toBe(204);
    expect((await reseller.get('/api/console/billing/rules')).statusCode).toBe(403);
  });

  it('previews the next three periods of new settings before saving them', async () => {
    const preview = (
      await admin.post('/api/console/billing/settings/preview', { timeZone: 'Europe/London', kind: 'fixed_start_day', day: 26 })
    ).json().nextPeriods;
    expect(preview).toHaveLength(3);
    for (const p of preview.slice(1)) expect(p.startDate.slice(8)).toBe('26');
    expect(preview[1].startDate).toBe(nextDay(preview[0].endDate));
    const bad = await admin.post('/api/console/billing/settings/preview', { timeZone: 'Mars/Base', kind: 'month_end' });
    expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'timeZone']);
    expect((await admin.get('/api/console/billing/settings')).json().settings).toEqual({ timeZone: 'UTC', kind: 'month_end', day: 0 });
  });

  it('lists the console endpoints with schemas in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    for (const path of [
      '/api/console/billing/skus',
      '/api/console/billing/rules/order',
      '/api/console/billing/runs/{id}',
      '/api/console/jobs/schedule',
      '/api/console/account/password',
    ]) {
      expect(doc.paths[path], path).toBeTruthy();
    }
    expect(doc.paths['/api/console/billing/summary'].get.responses['200'].content['application/json'].schema.properties.items).toBeTruthy();
  });
});

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
