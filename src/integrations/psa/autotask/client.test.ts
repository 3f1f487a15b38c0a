import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PsaHttpError, PsaProtocolError, PsaTransportError } from '../shared/errors.js';
import { AutotaskClient, formatAutotaskDate, normaliseRestRoot, type AutotaskClientOptions } from './client.js';
import { where } from './filter.js';
import { AutotaskSimulator, DEFAULT_AT_USER, type AutotaskSimulatorOptions } from './simulator.js';
import type { AutotaskDemo } from './sim-demo.js';
import type { AtCompany, AtContractServiceUnit } from './types.js';

let sim: AutotaskSimulator;
let demo: AutotaskDemo;
let sleeps: number[];

async function startSim(options: AutotaskSimulatorOptions = {}): Promise<void> {
  sim = await AutotaskSimulator.start(options);
  demo = sim.seedDemo();
}

function client(overrides: Partial<AutotaskClientOptions> = {}): AutotaskClient {
  return new AutotaskClient({
    userName: DEFAULT_AT_USER.userName,
    secret: DEFAULT_AT_USER.secret,
    integrationCode: DEFAULT_AT_USER.integrationCode,
    zoneLookupUrl: sim.baseUrl,
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
}

const firstOfThisMonth = (): string => `${new Date().toISOString().slice(0, 7)}-01`;

beforeEach(async () => {
  sleeps = [];
  await startSim();
});

afterEach(async () => {
  await sim.stop();
});

describe('Autotask zone discovery and auth', () => {
  it('discovers the zone without credentials, then calls the zone with the three auth headers', async () => {
    const at = client();
    const company = await at.findCompanyById(demo.companies.contoso);
    expect(company?.companyName).toBe('Contoso Ltd');

    const [zone, get] = sim.requests;
    expect(zone.path).toBe('/atservicesrest/V1.0/zoneInformation');
    expect(zone.search).toBe(`?user=${encodeURIComponent(DEFAULT_AT_USER.userName)}`);
    expect(zone.headers.secret).toBeUndefined();
    expect(zone.headers.username).toBeUndefined();
    expect(get.path).toBe(`/atservicesrest/V1.0/Companies/${demo.companies.contoso}`);
    expect(get.headers.apiintegrationcode).toBe(DEFAULT_AT_USER.integrationCode);
    expect(get.headers.username).toBe(DEFAULT_AT_USER.userName);
    expect(get.headers.secret).toBe(DEFAULT_AT_USER.secret);
    expect(at.counter.total).toBe(2);
  });

  it('caches the zone: later calls do not look it up again', async () => {
    const at = client();
    await at.findCompanyById(demo.companies.contoso);
    await at.findCompanyById(demo.companies.fabrikam);
    expect(sim.requests.filter((r) => /zoneinformation/i.test(r.path))).toHaveLength(1);
    expect(at.counter.byOperation()).toEqual({ 'GET zoneInformation': 1, 'GET Companies/{id}': 2 });
  });

  it('uses ZoneUser for discovery when it differs from the API user', async () => {
    await sim.stop();
    await startSim({ users: [DEFAULT_AT_USER, { ...DEFAULT_AT_USER, userName: 'fred@cspservices.com' }] });
    const at = client({ zoneUser: 'fred@cspservices.com' });
    await at.restRoot();
    expect(sim.requests[0].search).toBe('?user=fred%40cspservices.com');
  });

  it('skips discovery when BaseUrl is given, with or without the version segment', async () => {
    const at = client({ baseUrl: `${sim.baseUrl}/atservicesrest//v1.0/` });
    expect(await at.restRoot()).toBe(sim.restRoot);
    await at.findCompanyById(demo.companies.contoso);
    expect(sim.requests.map((r) => r.path)).toEqual([`/atservicesrest/V1.0/Companies/${demo.companies.contoso}`]);
  });

  it('fails zone discovery for a user that is not an API user', async () => {
    const at = client({ zoneUser: 'nobody@example.com', retry: { maxAttempts: 1 } });
    await expect(at.restRoot()).rejects.toBeInstanceOf(PsaHttpError);
  });

  it('reports a wrong secret as HTTP 401 with the plain-text body, without retrying', async () => {
    const at = client({ secret: 'wrong' });
    const err = await at.findCompanyById(demo.companies.contoso).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PsaHttpError);
    expect((err as PsaHttpError).status).toBe(401);
    expect((err as PsaHttpError).messages).toEqual(['Unauthorized']);
    expect((err as PsaHttpError).attempts).toBe(1);
  });

  it('reports an unknown user and a bad integration code as HTTP 500 with the errors array', async () => {
    for (const overrides of [{ userName: 'ghost@example.com' }, { integrationCode: 'NOPE' }]) {
      const at = client({ ...overrides, baseUrl: sim.restRoot, retry: { maxAttempts: 1 } });
      const err = (await at.findCompanyById(1).catch((e: unknown) => e)) as PsaHttpError;
      expect(err.status).toBe(500);
      expect(err.messages[0]).toMatch(/UserName|integration code/);
    }
  });
});

describe('Autotask queries', () => {
  it('pages through more than 500 records following nextPageUrl', async () => {
    for (let i = 0; i < 1_100; i++) sim.state.addCompany({ companyName: `Bulk ${String(i).padStart(4, '0')}`, companyNumber: `B${i}` });
    const at = client({ baseUrl: sim.restRoot });
    const bulk = await at.query<AtCompany>('Companies', [where.all()]);
    expect(bulk).toHaveLength(1_103);
    expect(new Set(bulk.map((c) => c.id)).size).toBe(1_103);
    expect(at.counter.byOperation()).toEqual({ 'POST Companies/query': 1, 'POST Companies/query/next': 2 });
    expect(sim.requests[1].path).toBe('/atservicesrest/V1.0/Companies/query/next');
  });

  it('falls back to GET for nextPageUrl when POST is refused, and remembers it', async () => {
    await sim.stop();
    await startSim({ nextPageMethods: ['GET'] });
    for (let i = 0; i < 1_100; i++) sim.state.addCompany({ companyName: `Bulk ${i}` });
    const at = client({ baseUrl: sim.restRoot });
    const all = await at.query<AtCompany>('Companies', [where.all()]);
    expect(all).toHaveLength(1_103);
    expect(sim.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'GET', 'GET']);
  });

  it('sends the documented filter body and ANDs top-level filters', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const contract = await at.findRecurringServiceContract(demo.companies.contoso);
    expect(contract?.id).toBe(demo.contracts.contosoRecurring);
    expect(contract?.contractType).toBe(7);
    expect(await at.findRecurringServiceContract(demo.companies.northwind)).toBeUndefined();
    const all = await at.listRecurringServiceContracts(demo.companies.contoso);
    expect(all.map((c) => c.id)).toEqual([demo.contracts.contosoRecurring]);
  });

  it('finds companies by number and name without regard to case, and returns undefined for unknown ids', async () => {
    const at = client({ baseUrl: sim.restRoot });
    expect((await at.findCompanyByNumber('fabrikam'))?.id).toBe(demo.companies.fabrikam);
    expect((await at.findCompaniesByName('CONTOSO LTD')).map((c) => c.id)).toEqual([demo.companies.contoso]);
    expect(await at.findCompanyByNumber('NOPE')).toBeUndefined();
    expect(await at.findCompanyById(123)).toBeUndefined();
  });

  it('evaluates nested or-groups and in-lists', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const found = await at.query<AtCompany>('Companies', [
      where.or(where.eq('companyNumber', 'CONTOSO'), where.eq('companyNumber', 'NORTHWIND')),
      where.in('id', [demo.companies.contoso, demo.companies.fabrikam]),
    ]);
    expect(found.map((c) => c.companyName)).toEqual(['Contoso Ltd']);
    expect(await at.count('Companies', [where.all()])).toBe(3);
  });

  it('surfaces a filter on an unknown field as the API error', async () => {
    const at = client({ baseUrl: sim.restRoot, retry: { maxAttempts: 1 } });
    const err = (await at.query('Companies', [where.eq('accountNumber', 'x')]).catch((e: unknown) => e)) as PsaHttpError;
    expect(err).toBeInstanceOf(PsaHttpError);
    expect(err.messages.join()).toMatch(/accountNumber/);
  });

  it('lists contract services and looks services up by id and by the SKU-mapping fields', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const lines = await at.listContractServices(demo.contracts.contosoRecurring);
    expect(lines.map((l) => l.serviceID).sort()).toEqual([demo.services.m365BusinessPremium, demo.services.hostedExchange].sort());
    const services = await at.listServicesByIds(lines.map((l) => l.serviceID));
    expect(services.map((s) => s.name).sort()).toEqual(['Hosted Exchange Mailbox', 'Microsoft 365 Business Premium']);
    expect((await at.findServicesBy('name', 'managed backup per gb'))[0]?.id).toBe(demo.services.backupPerGb);
    expect((await at.findServicesBy('invoiceDescription', 'Hosted SharePoint site'))[0]?.id).toBe(demo.services.sharePointSite);
    expect((await at.findServiceById(demo.services.hostedExchange))?.unitPrice).toBe(6.5);
    const line = await at.findContractService(demo.contracts.contosoRecurring, demo.services.hostedExchange);
    expect(line?.id).toBe(demo.contractServices.contosoExchange);
  });
});

describe('Autotask contract service adjustments', () => {
  it('changes the units in force from the effective date and leaves earlier periods alone', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const line = demo.contractServices.contosoM365;
    expect(await at.unitsInForce(line)).toBe(10);
    await at.createContractServiceAdjustment({
      contractID: demo.contracts.contosoRecurring,
      serviceID: demo.services.m365BusinessPremium,
      contractServiceID: line,
      unitChange: 3,
      effectiveDate: firstOfThisMonth(),
    });
    expect(await at.unitsInForce(line)).toBe(13);
    expect(sim.state.unitsFor(demo.contracts.contosoRecurring, demo.services.m365BusinessPremium)).toBe(13);
    const lastMonth = new Date(`${firstOfThisMonth()}T00:00:00Z`);
    lastMonth.setUTCDate(0);
    expect(await at.unitsInForce(line, lastMonth)).toBe(10);
    const posted = sim.requests.find((r) => r.method === 'POST' && /ServiceAdjustments/.test(r.path));
    expect(posted?.path).toBe(`/atservicesrest/V1.0/Contracts/${demo.contracts.contosoRecurring}/ServiceAdjustments`);
    expect(sim.state.adjustments().at(-1)).toMatchObject({ unitChange: 3, effectiveDate: `${firstOfThisMonth()}T00:00:00` });
  });

  it('splits the period on a mid-month effective date (pro-rated change)', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const line = demo.contractServices.fabrikamM365;
    const month = firstOfThisMonth().slice(0, 7);
    await at.createContractServiceAdjustment({
      contractID: demo.contracts.fabrikamRecurring,
      serviceID: demo.services.m365BusinessPremium,
      unitChange: -2,
      effectiveDate: new Date(`${month}-15T13:45:00Z`),
    });
    expect(await at.unitsInForce(line, new Date(`${month}-14T12:00:00Z`))).toBe(5);
    expect(await at.unitsInForce(line, new Date(`${month}-15T00:00:00Z`))).toBe(3);
    const units = await at.listContractServiceUnits(line);
    const thisMonth = units.filter((u: AtContractServiceUnit) => u.startDate.startsWith(month));
    expect(thisMonth.map((u) => [u.startDate, u.endDate, u.units])).toEqual([
      [`${month}-01T00:00:00`, `${month}-14T00:00:00`, 5],
      [`${month}-15T00:00:00`, expect.stringMatching(new RegExp(`^${month}-(28|29|30|31)T`)), 3],
    ]);
  });

  it('creates the contract service when an adjustment names a service not on the contract', async () => {
    const at = client({ baseUrl: sim.restRoot });
    expect(await at.findContractService(demo.contracts.contosoRecurring, demo.services.sharePointSite)).toBeUndefined();
    await at.createContractServiceAdjustment({
      contractID: demo.contracts.contosoRecurring,
      serviceID: demo.services.sharePointSite,
      unitChange: 2,
      effectiveDate: firstOfThisMonth(),
    });
    const line = await at.findContractService(demo.contracts.contosoRecurring, demo.services.sharePointSite);
    expect(line).toBeDefined();
    expect(await at.unitsInForce(line!.id)).toBe(2);
  });

  it('rejects a change that would make units negative, with the errors array and no retry', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const err = (await at
      .createContractServiceAdjustment({
        contractID: demo.contracts.contosoRecurring,
        serviceID: demo.services.hostedExchange,
        unitChange: -26,
        effectiveDate: firstOfThisMonth(),
      })
      .catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(500);
    expect(err.messages[0]).toMatch(/below zero/);
    expect(err.attempts).toBe(1);
    expect(sim.state.unitsFor(demo.contracts.contosoRecurring, demo.services.hostedExchange)).toBe(25);
  });

  it('creates a contract service with no units on a Recurring Service contract only', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const id = await at.createContractService({
      contractID: demo.contracts.fabrikamRecurring,
      serviceID: demo.services.backupPerGb,
      unitPrice: 0.25,
    });
    expect(await at.unitsInForce(id)).toBe(0);
    expect((await at.listContractServices(demo.contracts.fabrikamRecurring)).map((l) => l.id)).toContain(id);
    const err = (await at
      .createContractService({ contractID: demo.contracts.contosoHourly, serviceID: demo.services.backupPerGb, unitPrice: 1 })
      .catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(500);
    expect(err.messages[0]).toMatch(/Recurring Service/);
  });
});

describe('Autotask failures: 429, 500, timeouts', () => {
  it('waits Retry-After on 429 and succeeds, counting every attempt', async () => {
    const at = client({ baseUrl: sim.restRoot });
    sim.injectFaults({ status: 429, count: 2, retryAfter: 3 });
    expect((await at.findCompanyById(demo.companies.contoso))?.id).toBe(demo.companies.contoso);
    expect(sleeps).toEqual([3000, 3000]);
    expect(at.counter.total).toBe(3);
  });

  it('gives up at once when Retry-After exceeds the cap (hourly limit reached)', async () => {
    const at = client({ baseUrl: sim.restRoot, retry: { maxRetryAfterMs: 10_000 } });
    sim.injectFaults({ status: 429, retryAfter: 3600 });
    const err = (await at.findCompanyById(demo.companies.contoso).catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(429);
    expect(err.attempts).toBe(1);
  });

  it('retries a query after 500 with exponential backoff, bounded by maxAttempts', async () => {
    const at = client({ baseUrl: sim.restRoot, retry: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 4 } });
    sim.injectFaults({ status: 500, count: 2 });
    expect(await at.findCompanyByNumber('CONTOSO')).toBeDefined();
    expect(sleeps).toEqual([100, 200]);

    sleeps = [];
    sim.injectFaults({ status: 500, count: 10 });
    const err = (await at.findCompanyByNumber('CONTOSO').catch((e: unknown) => e)) as PsaHttpError;
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(4);
    expect(sleeps).toEqual([100, 200, 400]);
    sim.clearFaults();
  });

  it('does not resend an adjustment after a 500, but does after a 429 (refused unprocessed)', async () => {
    const at = client({ baseUrl: sim.restRoot });
    const adjust = (): Promise<number> =>
      at.createContractServiceAdjustment({
        contractID: demo.contracts.contosoRecurring,
        serviceID: demo.services.hostedExchange,
        unitChange: 1,
        effectiveDate: firstOfThisMonth(),
      });
    sim.injectFaults({ status: 500, match: { path: /ServiceAdjustments/ } });
    await expect(adjust()).rejects.toMatchObject({ status: 500, attempts: 1 });
    expect(sim.state.unitsFor(demo.contracts.contosoRecurring, demo.services.hostedExchange)).toBe(25);

    sim.injectFaults({ status: 429, match: { path: /ServiceAdjustments/ } });
    await adjust();
    expect(sim.state.unitsFor(demo.contracts.contosoRecurring, demo.services.hostedExchange)).toBe(26);
  });

  it('times out a hung read and retries it; a hung write is not resent', async () => {
    // The retried read must be answered within the timeout: 2 s, not 150 ms, so a loaded machine's
    // pause does not time an answered request out too (each hung request costs the timeout).
    const at = client({ baseUrl: sim.restRoot, timeoutMs: 2_000 });
    sim.injectFaults({ hang: true, match: { method: 'POST', path: /Companies\/query$/ } });
    expect((await at.findCompanyByNumber('FABRIKAM'))?.id).toBe(demo.companies.fabrikam);
    expect(at.counter.total).toBe(2);

    sim.injectFaults({ hang: true, match: { path: /ServiceAdjustments/ } });
    const err = await at
      .createContractServiceAdjustment({
        contractID: demo.contracts.fabrikamRecurring,
        serviceID: demo.services.m365BusinessPremium,
        unitChange: 1,
        effectiveDate: firstOfThisMonth(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PsaTransportError);
    expect((err as PsaTransportError).kind).toBe('timeout');
    expect(sim.requests.filter((r) => /ServiceAdjustments/.test(r.path))).toHaveLength(1);
  });

  it('refuses a nextPageUrl on another host so credentials stay with the zone', async () => {
    // The simulator names 127.0.0.1 in nextPageUrl; this client resolved the zone as localhost.
    const at = client({ baseUrl: sim.restRoot.replace('127.0.0.1', 'localhost') });
    for (let i = 0; i < 600; i++) sim.state.addCompany({ companyName: `Bulk ${i}` });
    await expect(at.query('Companies', [where.all()])).rejects.toBeInstanceOf(PsaProtocolError);
    expect(sim.requests).toHaveLength(1);
  });
});

describe('Autotask helpers', () => {
  it('normalises REST roots and dates', () => {
    expect(normaliseRestRoot('https://webservices5.autotask.net//atservicesrest//')).toBe(
      'https://webservices5.autotask.net/atservicesrest/',
    );
    expect(normaliseRestRoot('https://webservices5.autotask.net/ATServicesRest/V1.0')).toBe(
      'https://webservices5.autotask.net/ATServicesRest/',
    );
    expect(normaliseRestRoot('https://webservices5.autotask.net')).toBe('https://webservices5.autotask.net/atservicesrest/');
    expect(formatAutotaskDate(new Date('2024-05-17T23:10:00Z'))).toBe('2024-05-17T00:00:00');
    expect(formatAutotaskDate('2024-05-01')).toBe('2024-05-01T00:00:00');
    expect(() => formatAutotaskDate('May 1')).toThrow(RangeError);
  });
});
