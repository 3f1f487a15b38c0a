import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, PASSWORD, type ResellerTree } from '../support/fixtures.js';
import { freshScenario, ledger } from '../support/billing.js';
import { inTransaction } from '../../src/core/db/database.js';
import { buildServer } from '../../src/api/server.js';
import { setRoles, updateUser } from '../../src/tenancy/user.service.js';
import { getService } from '../../src/catalog/catalog.service.js';
import { runBilling } from '../../src/billing/run/run-billing.js';
import { billingDetail, detailReadingFor, type DetailItem, type DetailReading } from '../../src/billing/summary.js';
import type { CopyOut } from '../../src/core/db/copy-out.js';
import { TEST_ENGINE } from '../support/engine.js';
import { detailToWire } from '../../src/api/rest/detail-formats.js';
import { createApiToken, listApiTokens, deleteApiToken, tokenSigningKey } from '../../src/tenancy/api-tokens/api-token.service.js';
import { callerForUser } from '../../src/tenancy/auth.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';

let t: TestContext;
let app: FastifyInstance;
let tree: ResellerTree;
let token: string;
let key: Uint8Array;

// seed 000's examples, field for field
const ENVELOPE = ['data', 'errorMessage', 'success', 'responseCode'];
const SUMMARY_DATA = ['items', 'billPeriodId', 'periodName', 'startDate', 'endDate'];
const SUMMARY_ITEM = [
  'customerCode',
  'customerName',
  'customerAccountCode',
  'sku',
  'isBillable',
  'lineDescription',
  'previousPeriod',
  'change',
  'currentPeriod',
];
const DETAIL_ITEM = [
  'billPeriodID',
  'periodName',
  'billPeriodStartDate',
  'billPeriodEndDate',
  'customerId',
  'customerCode',
  'customerName',
  'customerAccountCode',
  'address1',
  'address2',
  'country',
  'postCode',
  'email',
  'billCustomerID',
  'billCustomerCode',
  'billCustomerName',
  'billCustomerAccountCode',
  'billAddress1',
  'billAddress2',
  'billCountry',
  'billPostCode',
  'billEmail',
  'billItemID',
  'serviceChangeID',
  'userId',
  'upn',
  'userName',
  'serviceId',
  'serviceCode',
  'serviceName',
  'instanceName',
  'sku',
  'skuType',
  'planCode',
  'servicePlanName',
  'lineDescription',
  'summaryGrouping',
  'percentDuration',
  'isBillable',
  'overrideReason',
  'billConfigRuleID',
  'changeStartDate',
  'changeEndDate',
  'quantity',
  'action',
  'addedByUserID',
  'addedByUserName',
  'removedByUserID',
  'removedByUserName',
  'department',
  'location',
  'actionedDate',
  'actionedBy',
  'resultCount',
];

const get = (url: string, bearer: string | undefined = token, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers } });

beforeAll(async () => {
  t = await openTestContext();
  tree = await makeResellerTree(t.db, t.admin);
  await inTransaction(t.db, async (tx) => {
    await tx
      .updateTable('customers')
      .set({ billing_id: '29683500', address1: '1 High St', address2: 'Flat "B" – Ünit\n2\\', country: 'UK', bill_to_parent: true })
      .where('id', '=', tree.customerA.customer.id)
      .execute();
  });
  const he = (await getService(t.db, { name: 'HE' })).id;
  await freshScenario(t.db, t.admin, { timeZone: 'UTC', kind: 'month_end', day: 0 }, '2024-05-01T00:00:00Z');
  const box = (id: number, user: { id: number; customerId: number }) => ({
    customerId: user.customerId,
    userId: user.id,
    serviceId: he,
    userServiceId: id,
    customerServiceId: 500,
    planCode: 'Ex10Basic',
    planName: 'Ex10 Basic',
    sku: 'HE-MBX-BASIC',
  });
  await ledger(t.db, t.admin, [
    { at: '2024-05-03T00:00:00Z', action: 'user_service_added', ...box(1, tree.customerA.adminUser) },
    { at: '2024-06-10T00:00:00Z', action: 'user_service_added', ...box(2, tree.customerB.adminUser) },
    { at: '2024-06-16T00:00:00Z', action: 'user_service_removed', ...box(1, tree.customerA.adminUser), quantity: '0' },
  ]);
  await runBilling(t.db, t.admin, { period: '2024-06-30', now: new Date('2024-07-02T00:00:00Z') });
  key = tokenSigningKey(t.ctx.secrets);
  token = (await inTransaction(t.db, (tx) => createApiToken(tx, t.admin, key, { label: 'Power BI' }))).token;
  app = await buildServer(t.ctx);
});
afterAll(async () => {
  await app.close();
  await t.close();
});

describe('GET /api/Billing/parameters', () => {
  it('lists period end dates and customers in the envelope', async () => {
    const res = await get('/api/Billing/parameters');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ENVELOPE);
    expect(body).toMatchObject({ success: true, responseCode: 200, errorMessage: null });
    expect(body.data.endDates.slice(0, 2)).toEqual([{ label: '2024-05-31' }, { label: '2024-06-30' }]);
    expect(body.data.customers).toContainEqual({ id: tree.customerA.customer.id, name: 'Customer Alpha One' });
  });

  it('answers any spelling of the path (the seed writes /api/Billing and /api/billing)', async () => {
    expect((await get('/API/BILLING/PARAMETERS')).statusCode).toBe(200);
    expect((await get('/api/billing/parameters')).statusCode).toBe(200);
    expect((await get('/Api/Billing/2024-06-30/Detail')).statusCode).toBe(200);
  });
});

describe('GET /api/billing/{enddate}', () => {
  it('returns the summary with every field of the seed, as numbers and ISO dates', async () => {
    const res = await get('/api/billing/2024-06-30?billable=1');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ENVELOPE);
    expect(Object.keys(body.data)).toEqual(SUMMARY_DATA);
    expect(body.data).toMatchObject({
      periodName: 'June 2024',
      startDate: '2024-06-01T00:00:00.000Z',
      endDate: '2024-06-30T23:59:59.999Z',
    });
    expect(body.data.items).toEqual([
      {
        customerCode: tree.customerA.customer.name,
        customerName: 'Customer Alpha One',
        customerAccountCode: '29683500',
        sku: 'HE-MBX-BASIC',
        isBillable: true,
        lineDescription: 'Hosted Exchange, Ex10 Basic',
        previousPeriod: 1,
        change: -1,
        currentPeriod: 0,
      },
      {
        customerCode: tree.customerB.customer.name,
        customerName: 'Customer Beta One',
        customerAccountCode: null,
        sku: 'HE-MBX-BASIC',
        isBillable: true,
        lineDescription: 'Hosted Exchange, Ex10 Basic',
        previousPeriod: 0,
        change: 1,
        currentPeriod: 1,
      },
    ]);
    expect(Object.keys(body.data.items[0])).toEqual(SUMMARY_ITEM);
  });

  it('refuses bad input with success false, a clear message and the right status', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/billing/2019-10-31', 404, /No billing period ends on 2019-10-31/],
      ['/api/billing/31-10-2019', 400, /not a date/],
      ['/api/billing/2024-06-30?customerId=abc', 400, /customerId must be a whole number/],
      [`/api/billing/2024-06-30?customerId=999999`, 404, /Customer '999999' not found/],
      ['/api/billing/2024-06-30?billable=maybe', 400, /billable must be 1 or 0/],
      ['/api/billing/2024-06-30/detail?format=pdf', 400, /format must be json, csv or xlsx/],
    ];
    for (const [url, status, message] of cases) {
      const res = await get(url);
      expect([url, res.statusCode]).toEqual([url, status]);
      expect(res.json()).toMatchObject({ data: null, success: false, responseCode: status, errorMessage: expect.stringMatching(message) });
    }
  });
});

describe('GET /api/billing/{enddate}/detail', () => {
  it('serialises each row in the database exactly as the typed row would be on the wire, chunk for chunk and through COPY', async () => {
    let copies = 0;
    const copyOut: CopyOut | undefined = t.ctx.database.copyOut && ((...a) => (copies++, t.ctx.database.copyOut!(...a)));
    const readings: DetailReading[] = [
      { chunkSize: 1, countChunk: 1 },
      { chunkSize: 2, countChunk: 1 },
      { ...detailReadingFor(t.ctx.database), copyOut },
    ];
    for (const reading of readings) {
      const detail = await billingDetail(t.db, t.admin, { endDate: '2024-06-30' }, reading);
      const typed: string[] = [];
      for await (const row of detail.rows) typed.push(JSON.stringify(detailToWire(row)));
      const pieces: Buffer[] = [];
      for await (const piece of detail.json) pieces.push(piece);
      const json = JSON.parse(`[${Buffer.concat(pieces).toString('utf8')}]`) as unknown[];
      expect(typed).toHaveLength(2);
      expect(json.map((row) => JSON.stringify(row))).toEqual(typed);
      expect((json[0] as DetailItem).address2).toBe('Flat "B" – Ünit\n2\\');
    }
    // A server streams through COPY; the embedded database has none.
    expect(copies).toBe(TEST_ENGINE === 'postgres' ? 1 : 0);
  });

  it('joins COPY rows split anywhere across buffers into one JSON array', async () => {
    const rows = ['{"a":"x,\\n"}', '{"b":[1,2]}', '{"c":"é"}'];
    const wire = Buffer.from(rows.map((r) => r + '\n').join(''));
    for (let size = 1; size <= wire.length; size++) {
      const buffers = Array.from({ length: Math.ceil(wire.length / size) }, (_, i) => Buffer.from(wire.subarray(i * size, (i + 1) * size)));
      const copyOut: CopyOut = () =>
        (async function* () {
          yield* buffers;
        })();
      const detail = await billingDetail(t.db, t.admin, { endDate: '2024-06-30' }, { chunkSize: 1, countChunk: 1, copyOut });
      const pieces: Buffer[] = [];
      for await (const piece of detail.json) pieces.push(piece);
      expect(Buffer.concat(pieces).toString('utf8')).toBe(rows.join(','));
    }
  });

  it('counts the rows in chunks of any size to the same total the rows stream', async () => {
    const totals: number[] = [];
    for (const countChunk of [1, 2, 3, 50_000]) {
      const detail = await billingDetail(t.db, t.admin, { endDate: '2024-06-30' }, { chunkSize: 1, countChunk });
      const streamed: DetailItem[] = [];
      for await (const row of detail.rows) streamed.push(row);
      expect(streamed.every((row) => row.resultCount === detail.total)).toBe(true);
      totals.push(detail.total, streamed.length);
    }
    expect(totals).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('lets other requests run while a download waits between chunks (the embedded database has one session)', async () => {
    const detail = await billingDetail(t.db, t.admin, { endDate: '2024-06-30' }, { chunkSize: 1, countChunk: 1 });
    const rows = detail.rows[Symbol.asyncIterator]();
    const first = await rows.next();
    expect(first.done).toBe(false);
    // The download is paused after its first chunk; a cursor held in a transaction would make this wait for it forever.
    expect((await get('/api/Billing/parameters')).statusCode).toBe(200);
    const second = await rows.next();
    expect(second.value.billItemID).toBeGreaterThan(first.value.billItemID);
    expect((await rows.next()).done).toBe(true);
  });

  it("gives the planner the period's item count after a run: each chunk of a download walks the index, not the rest of the period", async () => {
    // Never analyzed, bill_items would count as empty however many items the run wrote (PGlite never analyzes on its own).
    const planned = await sql<{ n: number }>`select reltuples::int as n from pg_class where oid = 'bill_items'::regclass`.execute(t.db);
    const stored = await sql<{ n: number }>`select count(*)::int as n from bill_items`.execute(t.db);
    expect(stored.rows[0]!.n).toBeGreaterThan(0);
    expect(planned.rows[0]!.n).toBe(stored.rows[0]!.n);
  });

  it('streams the detail items with every field of the seed', async () => {
    const res = await get('/api/billing/2024-06-30/detail');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ENVELOPE);
    expect(Object.keys(body.data)).toEqual(SUMMARY_DATA);
    const items = body.data.items;
    expect(items).toHaveLength(2);
    expect(Object.keys(items[0])).toEqual(DETAIL_ITEM);
    expect(items[0]).toMatchObject({
      billPeriodID: body.data.billPeriodId,
      periodName: 'June 2024',
      customerId: tree.customerA.customer.id,
      customerAccountCode: '29683500',
      address1: '1 High St',
      country: 'UK',
      billCustomerID: tree.resellerA.customer.id,
      billCustomerName: 'Reseller Alpha',
      serviceCode: 'HE',
      serviceName: 'Hosted Exchange',
      sku: 'HE-MBX-BASIC',
      skuType: 'User',
      planCode: 'Ex10Basic',
      servicePlanName: 'Ex10 Basic',
      percentDuration: 50,
      quantity: 1,
      action: 'Removed',
      isBillable: true,
      overrideReason: null,
      billConfigRuleID: null,
      changeStartDate: '2024-06-01T00:00:00.000Z',
      changeEndDate: '2024-06-16T00:00:00.000Z',
      addedByUserName: 'admin_SP',
      removedByUserName: 'admin_SP',
      actionedDate: '2024-06-16T00:00:00.000Z',
      department: 'Unassigned',
      resultCount: 2,
    });
    expect(items[1]).toMatchObject({
      percentDuration: 70,
      action: 'Added',
      changeEndDate: null,
      billCustomerID: tree.customerB.customer.id,
    });
  });

  it('filters by customer, service and user search', async () => {
    const count = async (q: string) => (await get(`/api/billing/2024-06-30/detail?${q}`)).json().data.items.length;
    expect(await count(`customerId=${tree.customerB.customer.id}`)).toBe(1);
    expect(await count('serviceSearch=exchange')).toBe(2);
    expect(await count('serviceSearch=sharepoint')).toBe(0);
    expect(await count(`userSearch=${tree.customerA.adminUser.name.toUpperCase()}`)).toBe(1);
    // Searches are values, never SQL, also where a server's COPY carries them as literals.
    for (const search of ["' or ''='", "\\' or 1=1 --", '%', '_'])
      expect(await count(`userSearch=${encodeURIComponent(search)}&serviceSearch=${encodeURIComponent(search)}`)).toBe(0);
  });

  it('answers text/csv by Accept header or format=csv', async () => {
    for (const res of [
      await get('/api/billing/2024-06-30/detail', token, { accept: 'text/csv' }),
      await get('/api/billing/2024-06-30/detail?format=csv'),
    ]) {
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = res.body
        .replace(/^\ufeff/, '')
        .trim()
        .split('\r\n');
      expect(lines[0]).toBe(DETAIL_ITEM.join(','));
      expect(lines).toHaveLength(3);
    }
  });

  it('downloads an Excel workbook', async () => {
    const res = await get('/api/billing/2024-06-30/detail?format=xlsx');
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toBe('attachment; filename="billing-detail-2024-06-30.xlsx"');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(sheet.rowCount).toBe(3);
    expect(sheet.getRow(1).getCell(1).value).toBe('billPeriodID');
    expect(sheet.getRow(2).getCell(DETAIL_ITEM.indexOf('percentDuration') + 1).value).toBe(50);
  });
});

describe('API tokens', () => {
  it('requires a bearer token and rejects a forged one', async () => {
    const none = await get('/api/Billing/parameters', '');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ success: false, responseCode: 401, errorMessage: expect.stringMatching(/Authorization: Bearer/) });
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await get('/api/Billing/parameters', forged)).statusCode).toBe(401);
  });

  it('lets only developers hold tokens, scopes answers to their subtree and rejects them at once when disabled or demoted', async () => {
    const reseller = tree.resellerA;
    await expect(inTransaction(t.db, (tx) => createApiToken(tx, reseller.admin, key, { label: 'x' }))).rejects.toMatchObject({
      code: 'NotAuthorized',
    });
    await inTransaction(t.db, (tx) => setRoles(tx, t.admin, reseller.adminUser.id, [ROLE.resellerAdmin, ROLE.developer]));
    const developer = (await callerForUser(t.db, reseller.adminUser.id))!;
    const { token: own, info } = await inTransaction(t.db, (tx) => createApiToken(tx, developer, key, { label: 'Excel' }));
    const params = (await get('/api/Billing/parameters', own)).json();
    expect(params.data.customers.map((c: { id: number }) => c.id).sort()).toEqual(
      [reseller.customer.id, tree.customerA.customer.id].sort(),
    );
    expect((await get(`/api/billing/2024-06-30?customerId=${tree.customerB.customer.id}`, own)).statusCode).toBe(404);
    const listed = await listApiTokens(t.db, developer);
    expect(listed).toEqual([
      {
        id: info.id,
        userId: reseller.adminUser.id,
        label: 'Excel',
        createdAt: expect.any(Date),
        expiresAt: null,
        lastUsedAt: expect.any(Date),
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(own);

    await inTransaction(t.db, (tx) => setRoles(tx, t.admin, reseller.adminUser.id, [ROLE.resellerAdmin]));
    expect((await get('/api/Billing/parameters', own)).statusCode).toBe(401);
    await inTransaction(t.db, (tx) => setRoles(tx, t.admin, reseller.adminUser.id, [ROLE.resellerAdmin, ROLE.developer]));
    expect((await get('/api/Billing/parameters', own)).statusCode).toBe(200);
    await inTransaction(t.db, (tx) => updateUser(tx, t.admin, reseller.customer, { id: reseller.adminUser.id }, { enabled: false }));
    expect((await get('/api/Billing/parameters', own)).statusCode).toBe(401);
    await inTransaction(t.db, (tx) => updateUser(tx, t.admin, reseller.customer, { id: reseller.adminUser.id }, { enabled: true }));
    expect((await get('/api/Billing/parameters', own)).statusCode).toBe(200);
    await inTransaction(t.db, (tx) => deleteApiToken(tx, developer, info.id));
    expect((await get('/api/Billing/parameters', own)).statusCode).toBe(401);
  });

  it('stores only a hash of the token id', async () => {
    const rows = await t.db.selectFrom('api_tokens').select(['token_hash']).execute();
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash) && !token.includes(r.token_hash))).toBe(true);
  });

  it("creates, lists and deletes tokens through the console endpoint with the user's Basic auth", async () => {
    const basic = { authorization: 'Basic ' + Buffer.from(`${tree.resellerA.adminUser.name}:${PASSWORD}`).toString('base64') };
    const created = await app.inject({ method: 'POST', url: '/api/console/tokens', headers: basic, payload: { label: 'PSA' } });
    expect(created.statusCode).toBe(201);
    const { token: value, id } = created.json();
    expect((await get('/api/Billing/parameters', value)).statusCode).toBe(200);
    const list = await app.inject({ method: 'GET', url: '/api/console/tokens', headers: basic });
    expect(list.json().tokens.map((x: { label: string }) => x.label)).toContain('PSA');
    expect(list.body).not.toContain(value);
    expect((await app.inject({ method: 'DELETE', url: `/api/console/tokens/${id}`, headers: basic })).statusCode).toBe(204);
    expect((await get('/api/Billing/parameters', value)).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/console/tokens' })).statusCode).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('publishes an OpenAPI 3 document of the External API and a browsable UI', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths).filter((p) => !p.startsWith('/api/console/'));
    expect(paths.sort()).toEqual(['/api/Billing/parameters', '/api/billing/{endDate}', '/api/billing/{endDate}/detail']);
    const ui = await app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});
