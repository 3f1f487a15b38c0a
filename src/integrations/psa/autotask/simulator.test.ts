import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutotaskSimulator, DEFAULT_AT_USER } from './simulator.js';
import type { AutotaskDemo } from './sim-demo.js';

let sim: AutotaskSimulator;
let demo: AutotaskDemo;

const auth = {
  ApiIntegrationcode: DEFAULT_AT_USER.integrationCode,
  UserName: DEFAULT_AT_USER.userName,
  Secret: DEFAULT_AT_USER.secret,
};

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeEach(async () => {
  sim = await AutotaskSimulator.start({ hourlyLimit: 50 });
  demo = sim.seedDemo();
});

afterEach(async () => {
  await sim.stop();
});

describe('Autotask simulator wire behaviour', () => {
  it('answers zone lookup on either spelling, with the REST root as url', async () => {
    const res = await fetch(`${sim.baseUrl}/ATServicesRest/V1.0/ZoneInformation?user=${DEFAULT_AT_USER.userName}`);
    expect(await res.json()).toEqual({ zoneName: 'Simulator Zone', url: sim.restRoot, webUrl: `${sim.baseUrl}/`, ci: 1 });
  });

  it('matches PascalCase query keys and field names without regard to case, and serves GET ?search=', async () => {
    const body = { Filter: [{ Op: 'EQ', Field: 'COMPANYNUMBER', Value: 'contoso' }], MaxRecords: 10, IncludeFields: ['companyName'] };
    const post = await call('POST', '/atservicesrest/v1.0/companies/query', body);
    expect(post.body).toEqual({
      items: [{ id: demo.companies.contoso, companyName: 'Contoso Ltd', userDefinedFields: [] }],
      pageDetails: { count: 1, requestCount: 10, prevPageUrl: null, nextPageUrl: null },
    });
    const get = await call('GET', `/atservicesrest/V1.0/Companies/query?search=${encodeURIComponent(JSON.stringify(body))}`);
    expect(get.body).toEqual(post.body);
    const count = await call('POST', '/atservicesrest/V1.0/Companies/query/count', body);
    expect(count.body).toEqual({ queryCount: 1 });
  });

  it('rejects maxRecords above 500 and more than 500 OR conditions', async () => {
    const big = await call('POST', '/atservicesrest/V1.0/Companies/query', {
      filter: [{ op: 'gte', field: 'id', value: 0 }],
      maxRecords: 501,
    });
    expect(big.status).toBe(500);
    const ors = Array.from({ length: 501 }, (_, i) => ({ op: 'eq', field: 'id', value: i }));
    const tooMany = await call('POST', '/atservicesrest/V1.0/Companies/query', { filter: [{ op: 'or', items: ors }] });
    expect(tooMany.status).toBe(500);
    expect(tooMany.body.errors[0]).toMatch(/500 or fewer 'OR' conditions/);
  });

  it('serves prevPageUrl and nextPageUrl for a multi-page result', async () => {
    for (let i = 0; i < 7; i++) sim.state.addService({ name: `Extra ${i}` });
    const first = await call('POST', '/atservicesrest/V1.0/Services/query', {
      filter: [{ op: 'gte', field: 'id', value: 0 }],
      maxRecords: 5,
    });
    expect(first.body.pageDetails).toMatchObject({ count: 5, requestCount: 5, prevPageUrl: null });
    const next = new URL(first.body.pageDetails.nextPageUrl as string);
    const second = await call('GET', `${next.pathname}${next.search}`);
    expect(second.body.items).toHaveLength(5);
    expect(second.body.pageDetails.prevPageUrl).toMatch(/\/Services\/query\/next\?paging=/);
    expect(second.body.items[0].id).toBeGreaterThan(first.body.items[4].id);
  });

  it('keeps ContractServiceAdjustments create-only and ContractServices updates to adjustedPrice/invoiceDescription', async () => {
    expect(
      (await call('POST', '/atservicesrest/V1.0/ContractServiceAdjustments/query', { filter: [{ op: 'gte', field: 'id', value: 0 }] }))
        .status,
    ).toBe(405);
    expect((await call('GET', `/atservicesrest/V1.0/Contracts/${demo.contracts.contosoRecurring}/ServiceAdjustments`)).status).toBe(405);
    const path = `/atservicesrest/V1.0/Contracts/${demo.contracts.contosoRecurring}/Services`;
    const ok = await call('PATCH', path, { id: demo.contractServices.contosoM365, adjustedPrice: 19.5, invoiceDescription: 'M365' });
    expect(ok.body).toEqual({ itemId: demo.contractServices.contosoM365 });
    expect(sim.state.get('ContractServices', demo.contractServices.contosoM365)).toMatchObject({
      adjustedPrice: 19.5,
      invoiceDescription: 'M365',
    });
    const bad = await call('PATCH', path, { id: demo.contractServices.contosoM365, unitPrice: 1 });
    expect(bad.status).toBe(500);
    expect(bad.body.errors[0]).toMatch(/read-only.*unitPrice/);
  });

  it('accepts the root adjustment route and the minimal body seen in a real client', async () => {
    const res = await call('POST', '/atservicesrest/V1.0/ContractServiceAdjustments', {
      id: 0,
      contractID: demo.contracts.fabrikamRecurring,
      serviceID: demo.services.m365BusinessPremium,
      unitChange: 4,
      effectiveDate: `${new Date().toISOString().slice(0, 7)}-01T00:00:00`,
    });
    expect(res.body.itemId).toEqual(expect.any(Number));
    expect(sim.state.unitsFor(demo.contracts.fabrikamRecurring, demo.services.m365BusinessPremium)).toBe(9);
  });

  it('throttles past the hourly limit and reports usage in ThresholdInformation', async () => {
    const info = await call('GET', '/atservicesrest/V1.0/ThresholdInformation');
    expect(info.body).toEqual({ externalRequestThreshold: 50, requestThresholdTimeframe: 60, currentTimeframeRequestCount: 1 });
    for (let i = 0; i < 49; i++) await call('GET', `/atservicesrest/V1.0/Companies/${demo.companies.contoso}`);
    const throttled = await call('GET', `/atservicesrest/V1.0/Companies/${demo.companies.contoso}`);
    expect(throttled.status).toBe(429);
    expect(throttled.body.errors).toHaveLength(1);
  });

  it('publishes the contractType picklist with Recurring Service = 7', async () => {
    const res = await call('GET', '/atservicesrest/V1.0/Contracts/entityInformation/fields');
    const contractType = res.body.fields.find((f: { name: string }) => f.name === 'contractType');
    expect(contractType.picklistValues).toContainEqual(expect.objectContaining({ value: '7', label: 'Recurring Service' }));
  });
});
