import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, parseConditions, ConditionsError } from './sim-conditions.js';
import type { ConnectWiseDemo } from './sim-demo.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from './simulator.js';

let sim: ConnectWiseSimulator;
let demo: ConnectWiseDemo;

const { companyId, publicKey, privateKey, clientId } = DEFAULT_CW_CREDENTIALS;
const headers = {
  Authorization: `Basic ${Buffer.from(`${companyId}+${publicKey}:${privateKey}`).toString('base64')}`,
  clientId,
  'Content-Type': 'application/json',
};

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; link: string | null; body: any }> {
  const res = await fetch(`${sim.apiUrl}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, link: res.headers.get('link'), body: text ? JSON.parse(text) : undefined };
}

beforeEach(async () => {
  sim = await ConnectWiseSimulator.start();
  demo = sim.seedDemo();
});

afterEach(async () => {
  await sim.stop();
});

describe('ConnectWise conditions grammar', () => {
  const record = {
    name: 'Fred Bloggs',
    closedFlag: false,
    dateEntered: '2016-01-02T00:00:00Z',
    summary: 'a test ticket',
    cancelledDate: null,
    contact: { name: 'Fred Smith' },
    quantity: 12.5,
  };
  const holds = (text: string): boolean => evaluate(parseConditions(text), record);

  it('evaluates the documented example and each literal kind', () => {
    expect(
      holds('(contact/name like "Fred%" and closedFlag = false) and dateEntered > [2015-12-23T05:53:27Z] or summary contains "test"'),
    ).toBe(true);
    expect(holds(`name = 'fred bloggs'`)).toBe(true);
    expect(holds('quantity >= 12.5 AND quantity < 13')).toBe(true);
    expect(holds('cancelledDate = null')).toBe(true);
    expect(holds('contact/name != "Fred Smith" or closedFlag = true')).toBe(false);
    expect(holds('dateEntered <= [2015-12-31T00:00:00Z]')).toBe(false);
  });

  it('binds and tighter than or', () => {
    expect(holds('closedFlag = true and name = "x" or quantity = 12.5')).toBe(true);
    expect(holds('closedFlag = true and (name = "x" or quantity = 12.5)')).toBe(false);
  });

  it('rejects malformed expressions with the literal rules', () => {
    for (const bad of ['name = Fred', 'name = "Fred', 'dateEntered > [not a date]', '(name = "a"', 'name ~ "a"', 'name = "a" extra']) {
      expect(() => parseConditions(bad), bad).toThrow(ConditionsError);
    }
    expect(() => parseConditions('name = Fred')).toThrow(/Strings must be surrounded by quotes/);
  });
});

describe('ConnectWise simulator wire behaviour', () => {
  it('serves bare arrays with first/prev/next/last Link URLs and honours orderBy, fields and pageId', async () => {
    const page2 = await call('GET', 'company/companies?pageSize=1&page=2&orderBy=identifier%20desc&fields=id,identifier');
    expect(page2.body).toEqual([{ id: demo.companies.fabrikam, identifier: 'FABRIKAM' }]);
    const rels = Object.fromEntries(
      [...(page2.link ?? '').matchAll(/<([^>]+)>; rel="(\w+)"/g)].map(([, url, rel]) => [rel, new URL(url).searchParams.get('page')]),
    );
    expect(rels).toEqual({ first: '1', prev: '1', next: '3', last: '3' });
    const after = await call('GET', `company/companies?pageId=${demo.companies.contoso}`);
    expect(after.body.map((c: { id: number }) => c.id)).toEqual([demo.companies.fabrikam, demo.companies.northwind]);
    const nested = await call(
      'GET',
      `finance/agreements?fields=id,company/identifier&conditions=${encodeURIComponent('id=' + demo.agreements.fabrikamCloud)}`,
    );
    expect(nested.body).toEqual([{ id: demo.agreements.fabrikamCloud, company: { identifier: 'FABRIKAM' } }]);
  });

  it('caps pageSize at 1000 and defaults to 25', async () => {
    for (let i = 0; i < 1_005; i++) sim.state.addCatalogItem({ identifier: `X${i}`, description: `X ${i}`, price: 1 });
    expect((await call('GET', 'procurement/catalog?pageSize=5000')).body).toHaveLength(1000);
    expect((await call('GET', 'procurement/catalog')).body).toHaveLength(25);
    expect((await call('GET', 'procurement/catalog/count?conditions=inactiveFlag%3Dtrue')).body).toEqual({ count: 1 });
  });

  it('creates with 201, patches with a leading-slash path, rejects read-only paths, deletes with 204', async () => {
    const path = `finance/agreements/${demo.agreements.fabrikamCloud}/additions`;
    const created = await call('POST', path, {
      product: { id: demo.catalog.hostedExchange },
      billCustomer: 'NoCharge',
      quantity: 3,
      lessIncluded: 1,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      product: { identifier: 'HEX-MBX' },
      extPrice: 13,
      extCost: 9.1,
      margin: 3.9,
      agreementStatus: 'Active',
    });
    expect(created.body._info.lastUpdated).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const patched = await call('PATCH', `${path}/${created.body.id}`, [{ op: 'replace', path: '/quantity', value: 4 }]);
    expect(patched.body.quantity).toBe(4);
    const readOnly = await call('PATCH', `${path}/${created.body.id}`, [{ op: 'replace', path: 'extPrice', value: 1 }]);
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.errors[0]).toMatchObject({ code: 'InvalidField', field: 'extPrice' });
    expect((await call('DELETE', `${path}/${created.body.id}`)).status).toBe(204);
    expect((await call('GET', `${path}/${created.body.id}`)).body).toEqual({
      code: 'NotFound',
      message: `agreementAddition recId ${created.body.id} not found`,
      errors: [],
    });
  });

  it('does not serve an addition through another agreement', async () => {
    const res = await call('GET', `finance/agreements/${demo.agreements.contosoCloud}/additions/${demo.additions.fabrikamM365}`);
    expect(res.status).toBe(404);
  });
});
