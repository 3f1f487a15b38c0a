import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PsaHttpError, PsaInputError, PsaTransportError } from '../shared/errors.js';
import { DEFAULT_TIMEOUT_MS } from '../shared/http.js';
import { ConnectWiseClient, normaliseApiUrl, type ConnectWiseClientOptions } from './client.js';
import { allOf, condition, literal } from './conditions.js';
import { DEMO_AGREEMENT_TYPE, type ConnectWiseDemo } from './sim-demo.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from './simulator.js';
import type { CwCompany } from './types.js';

let sim: ConnectWiseSimulator;
let demo: ConnectWiseDemo;
let sleeps: number[];

function client(overrides: Partial<ConnectWiseClientOptions> = {}): ConnectWiseClient {
  return new ConnectWiseClient({
    ...DEFAULT_CW_CREDENTIALS,
    apiUrl: sim.apiUrl,
    retry: { baseDelayMs: 10, maxDelayMs: 40 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
}

beforeEach(async () => {
  sleeps = [];
  sim = await ConnectWiseSimulator.start();
  demo = sim.seedDemo();
});

afterEach(async () => {
  await sim.stop();
});

describe('ConnectWise auth', () => {
  it('sends Basic company+public:private, clientId and a versioned Accept', async () => {
    const cw = client({ apiVersion: '2021.1' });
    expect((await cw.findCompanyByIdentifier('CONTOSO'))?.id).toBe(demo.companies.contoso);
    const [req] = sim.requests;
    expect(req.path).toBe('/v4_6_release/apis/3.0/company/companies');
    const decoded = Buffer.from(String(req.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('simco+simPublicKey:simPrivateKey');
    expect(req.headers.clientid).toBe(DEFAULT_CW_CREDENTIALS.clientId);
    expect(req.headers.accept).toBe('application/vnd.connectwise.com+json; version=2021.1, application/json');
    expect(new URLSearchParams(req.search).get('conditions')).toBe('identifier="CONTOSO"');
  });

  it('rejects a wrong private key or a missing clientId with 401 and the error body, without retrying', async () => {
    for (const overrides of [{ privateKey: 'nope' }, { clientId: '' }]) {
      const cw = client(overrides);
      const err = (await cw.findCompanyByIdentifier('CONTOSO').catch((e: unknown) => e)) as PsaHttpError;
      expect(err).toBeInstanceOf(PsaHttpError);
      expect(err.status).toBe(401);
      expect(err.attempts).toBe(1);
      expect(err.messages[0]).toMatch(/credentials|clientId/);
    }
  });

  it('builds the 3.0 base from a bare site ApiUrl', async () => {
    expect(normaliseApiUrl('https://api-na.myconnectwise.net')).toBe('https://api-na.myconnectwise.net/v4_6_release/apis/3.0');
    expect(normaliseApiUrl('https://api-eu.myconnectwise.net/v2022_1/apis/3.0/')).toBe('https://api-eu.myconnectwise.net/v2022_1/apis/3.0');
    const cw = client({ apiUrl: sim.baseUrl });
    expect(await cw.findCompanyByIdentifier('FABRIKAM')).toBeDefined();
  });
});

describe('ConnectWise lookups and paging', () => {
  it('pages with page/pageSize and stops when the Link header has no next', async () => {
    for (let i = 0; i < 2_050; i++) sim.state.addCompany({ identifier: `BULK${i}`, name: `Bulk ${i}` });
    const cw = client();
    const all = await cw.list<CwCompany>('company/companies');
    expect(all).toHaveLength(2_053);
    expect(new Set(all.map((c) => c.id)).size).toBe(2_053);
    expect(sim.requests.map((r) => new URLSearchParams(r.search).get('page'))).toEqual(['1', '2', '3']);
    expect(sim.requests.every((r) => new URLSearchParams(r.search).get('pageSize') === '1000')).toBe(true);
  });

  it('without a Link header stops on a short page, so an exact fit costs one extra call', async () => {
    const cw = client({ pageSize: 4 });
    expect(await cw.list('company/companies')).toHaveLength(3);
    expect(cw.counter.total).toBe(1);
    cw.counter.reset();
    const exact = client({ pageSize: 3 });
    expect(await exact.list('company/companies')).toHaveLength(3);
    expect(exact.counter.total).toBe(2);
  });

  it('stops on the last page when the Link header has prev but no next', async () => {
    sim.state.addCompany({ identifier: 'EXTRA1', name: 'Extra 1' });
    sim.state.addCompany({ identifier: 'EXTRA2', name: 'Extra 2' });
    sim.state.addCompany({ identifier: 'EXTRA3', name: 'Extra 3' });
    const cw = client({ pageSize: 3 });
    expect(await cw.list('company/companies')).toHaveLength(6);
    expect(cw.counter.total).toBe(2);
  });

  it('finds agreements of a company by type name and status', async () => {
    const cw = client();
    const cloud = await cw.listAgreements('contoso', { typeName: DEMO_AGREEMENT_TYPE, status: 'Active' });
    expect(cloud.map((a) => a.id)).toEqual([demo.agreements.contosoCloud]);
    expect((await cw.listAgreements('CONTOSO')).map((a) => a.id)).toEqual([demo.agreements.contosoCloud, demo.agreements.contosoProjects]);
    expect(await cw.listAgreements('NORTHWIND', { typeName: DEMO_AGREEMENT_TYPE })).toEqual([]);
    expect((await cw.findAgreementType(DEMO_AGREEMENT_TYPE))?.name).toBe(DEMO_AGREEMENT_TYPE);
    expect(await cw.findAgreementType('No Such Type')).toBeUndefined();
    const sent = new URLSearchParams(sim.requests[0].search).get('conditions');
    expect(sent).toBe('(company/identifier="contoso") and (type/name="Cloud and Hosting Services") and (agreementStatus="Active")');
  });

  it('finds catalog items by identifier, skipping inactive ones unless asked', async () => {
    const cw = client();
    expect((await cw.findCatalogItem('M365-BP'))?.id).toBe(demo.catalog.m365BusinessPremium);
    expect(await cw.findCatalogItem('FAX-LINE')).toBeUndefined();
    expect((await cw.findCatalogItem('FAX-LINE', { includeInactive: true }))?.id).toBe(demo.catalog.retiredFax);
  });

  it('returns undefined for an unknown id (404) and counts with conditions', async () => {
    const cw = client();
    expect(await cw.get('company/companies/999999')).toBeUndefined();
    expect(await cw.count('finance/agreements', condition('company/identifier', '=', 'CONTOSO'))).toBe(2);
  });

  it('surfaces a malformed or unknown-field condition as the 400 error body', async () => {
    const cw = client();
    const err = (await cw.list('company/companies', { conditions: 'identifier = ACME' }).catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(400);
    expect(err.messages.join()).toMatch(/Strings must be surrounded by quotes/);
    const unknown = (await cw.list('company/companies', { conditions: 'billingZone = "x"' }).catch((e: unknown) => e)) as PsaHttpError;
    expect(unknown.messages.join()).toMatch(/billingZone/);
  });
});

describe('ConnectWise agreement additions', () => {
  it('lists additions by product and sets a quantity with a JSON-Patch replace', async () => {
    const cw = client();
    const addition = await cw.findActiveAddition(demo.agreements.contosoCloud, 'HEX-MBX');
    expect(addition).toMatchObject({ id: demo.additions.contosoExchange, quantity: 25, extPrice: 162.5 });
    const updated = await cw.updateAdditionQuantity(demo.agreements.contosoCloud, addition!.id, 30);
    expect(updated).toMatchObject({ quantity: 30, extPrice: 195, _info: { updatedBy: 'SimApiMember' } });
    expect(sim.state.quantityOf(demo.agreements.contosoCloud, 'HEX-MBX')).toBe(30);
    const patch = sim.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(`/v4_6_release/apis/3.0/finance/agreements/${demo.agreements.contosoCloud}/additions/${addition!.id}`);
  });

  it('creates an addition with product identifier, billCustomer and effective date', async () => {
    const cw = client();
    const created = await cw.createAddition(demo.agreements.fabrikamCloud, {
      product: { identifier: 'BKP-GB' },
      billCustomer: 'Billable',
      quantity: 400,
      effectiveDate: '2025-06-01',
    });
    expect(created).toMatchObject({
      quantity: 400,
      unitPrice: 0.25,
      extPrice: 100,
      effectiveDate: '2025-06-01T00:00:00Z',
      agreementId: demo.agreements.fabrikamCloud,
    });
    expect(sim.state.quantityOf(demo.agreements.fabrikamCloud, 'BKP-GB')).toBe(400);
  });

  it('reports missing required fields as 400 InvalidObject with per-field errors', async () => {
    const cw = client();
    const err = (await cw
      .post(`finance/agreements/${demo.agreements.fabrikamCloud}/additions`, { quantity: 1 })
      .catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(400);
    expect((err.body as { code: string }).code).toBe('InvalidObject');
    expect(err.messages).toEqual([
      'agreementAddition object is invalid',
      'product: The product field is required.',
      'billCustomer: The billCustomer field is required.',
    ]);
    const badEnum = (await cw
      .createAddition(demo.agreements.fabrikamCloud, { product: { identifier: 'BKP-GB' }, billCustomer: 'Yes' as 'Billable', quantity: 1 })
      .catch((e: unknown) => e)) as PsaHttpError;
    expect(badEnum.messages.join()).toMatch(/Billable, DoNotBill, NoCharge/);
  });

  it('cancels an addition by cancelledDate, keeping it for history but hiding it from active lookups', async () => {
    const cw = client();
    const today = new Date().toISOString().slice(0, 10);
    const cancelled = await cw.cancelAddition(demo.agreements.contosoCloud, demo.additions.contosoM365, today);
    expect(cancelled.cancelledDate).toBe(`${today}T00:00:00Z`);
    expect(await cw.findActiveAddition(demo.agreements.contosoCloud, 'M365-BP')).toBeUndefined();
    const all = await cw.listAdditions(demo.agreements.contosoCloud, { includeCancelled: true });
    expect(all.map((a) => a.id)).toContain(demo.additions.contosoM365);
  });

  it('replaces an addition with PUT', async () => {
    const cw = client();
    const current = (await cw.findActiveAddition(demo.agreements.fabrikamCloud, 'M365-BP'))!;
    const replaced = await cw.replaceAddition(demo.agreements.fabrikamCloud, { ...current, quantity: 7, unitPrice: 20 });
    expect(replaced).toMatchObject({ id: current.id, quantity: 7, extPrice: 140 });
  });

  it('refuses a condition value it cannot quote', () => {
    expect(literal(`O'Brien`)).toBe(`"O'Brien"`);
    expect(literal('say "hi"')).toBe(`'say "hi"'`);
    expect(() => literal(`it's "x"`)).toThrow(PsaInputError);
    expect(literal(new Date('2024-01-01T00:00:00Z'))).toBe('[2024-01-01T00:00:00Z]');
    expect(allOf(condition('a', '=', 1), undefined)).toBe('a=1');
  });
});

describe('ConnectWise failures: 429, 500, timeouts', () => {
  it('retries 429 honouring Retry-After and 500 with backoff on reads', async () => {
    const cw = client();
    sim.injectFaults({ status: 429, retryAfter: 2 });
    sim.injectFaults({ status: 500 });
    expect(await cw.findCompanyByIdentifier('CONTOSO')).toBeDefined();
    expect(sleeps).toEqual([2000, 20]);
    expect(cw.counter.total).toBe(3);
  });

  it('gives up after maxAttempts with the vendor error body', async () => {
    const cw = client({ retry: { maxAttempts: 3, baseDelayMs: 1 } });
    sim.injectFaults({ status: 503, count: 5 });
    const err = (await cw.findCompanyByIdentifier('CONTOSO').catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(3);
    expect(err.messages).toEqual(['Simulated HTTP 503']);
  });

  it('does not resend a POSTed addition after a 500, but retries an idempotent PATCH', async () => {
    const cw = client();
    sim.injectFaults({ status: 500, match: { method: 'POST' } });
    await expect(
      cw.createAddition(demo.agreements.fabrikamCloud, { product: { identifier: 'HEX-MBX' }, billCustomer: 'Billable', quantity: 2 }),
    ).rejects.toMatchObject({ status: 500, attempts: 1 });
    expect(sim.state.quantityOf(demo.agreements.fabrikamCloud, 'HEX-MBX')).toBeUndefined();

    sim.injectFaults({ status: 500, match: { method: 'PATCH' } });
    await cw.updateAdditionQuantity(demo.agreements.fabrikamCloud, demo.additions.fabrikamM365, 8);
    expect(sim.state.quantityOf(demo.agreements.fabrikamCloud, 'M365-BP')).toBe(8);
    expect(sim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  });

  it('times out a hung request', async () => {
    const cw = client({ timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    sim.injectFaults({ hang: true, count: 2 });
    const started = Date.now();
    const err = (await cw.findCompanyByIdentifier('CONTOSO').catch((e: unknown) => e)) as PsaTransportError;
    expect(err).toBeInstanceOf(PsaTransportError);
    expect(err.kind).toBe('timeout');
    expect(err.attempts).toBe(2);
    // The configured timeout ended both attempts, not the default (one default-length wait exceeds this).
    expect(Date.now() - started).toBeLessThan(DEFAULT_TIMEOUT_MS);
  });
});
