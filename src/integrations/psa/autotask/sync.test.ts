import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { line, MemoryLog, monthOf, StaticQuantitySource } from '../shared/sync-testing.js';

const PERIOD = monthOf(new Date());
import type { SyncLine } from '../shared/sync-source.js';
import { AT_CODES, type AtCode } from './sync-codes.js';
import { AutotaskSimulator, DEFAULT_AT_USER } from './simulator.js';
import type { AutotaskDemo } from './sim-demo.js';
import { AUTOTASK_DEFAULTS, syncAutotask, type AutotaskSyncParameters } from './sync.js';

let sim: AutotaskSimulator;
let demo: AutotaskDemo;

beforeEach(async () => {
  sim = await AutotaskSimulator.start();
  demo = sim.seedDemo();
});
afterEach(async () => {
  await sim.stop();
});

const SECRETS = { UserName: DEFAULT_AT_USER.userName, Secret: DEFAULT_AT_USER.secret, IntegrationCode: DEFAULT_AT_USER.integrationCode };

interface Scenario {
  params?: Partial<AutotaskSyncParameters>;
  secrets?: () => Record<string, string>;
  lines?: SyncLine[];
  source?: StaticQuantitySource;
  dryRun?: boolean;
}

async function run(s: Scenario = {}) {
  const log = new MemoryLog();
  const source = s.source ?? new StaticQuantitySource(s.lines ?? contosoLines());
  const result = await syncAutotask({
    params: { ...AUTOTASK_DEFAULTS, BaseUrl: sim.restRoot, ...s.params },
    secrets: s.secrets ?? (() => SECRETS),
    source,
    log,
    dryRun: s.dryRun ?? false,
    taskTypeId: 'autotask-psa',
    client: { zoneLookupUrl: sim.baseUrl, retry: { maxAttempts: 2 }, sleep: async () => {} },
  });
  return { log, result };
}

/** Contoso as in the simulator's demo: M365 at 10 and Exchange at 25 units. */
function contosoLines(m365 = '10', exchange = '25'): SyncLine[] {
  const billingId = String(demo.companies.contoso);
  return [
    line({
      customerCode: 'CON',
      customerName: 'Contoso',
      billingId,
      sku: String(demo.services.m365BusinessPremium),
      lineDescription: 'M365 users',
      quantity: m365,
    }),
    line({
      customerCode: 'CON',
      customerName: 'Contoso',
      billingId,
      sku: String(demo.services.hostedExchange),
      lineDescription: 'Mailboxes',
      quantity: exchange,
    }),
  ];
}

const units = (serviceId: number): number => sim.state.unitsFor(demo.contracts.contosoRecurring, serviceId, PERIOD.endDate);

describe('Autotask sync: every AT code in the situation seed 003 describes', () => {
  const cases: { code: AtCode; situation: string; scenario: () => Scenario; message?: RegExp }[] = [
    {
      code: 'AT01',
      situation: 'start of process',
      scenario: () => ({}),
      message: new RegExp(`^Billing Process Started: For Billing Period ${PERIOD.endDate}$`),
    },
    {
      code: 'AT02',
      situation: 'Autotask rejects the credentials',
      scenario: () => ({ secrets: () => ({ ...SECRETS, Secret: 'wrong' }) }),
      message: /^Failed to connect to Autotask: Error reported was: .*401/,
    },
    {
      code: 'AT03',
      situation: 'Tenantry billing data cannot be read',
      scenario: () => ({
        source: Object.assign(new StaticQuantitySource([]), {
          lines: async () => {
            throw new Error('billing database offline');
          },
        }),
      }),
      message: /^Failed to connect to Atria: Error reported was: billing database offline$/,
    },
    {
      code: 'AT04',
      situation: 'a customer has no Billing Identifier',
      scenario: () => ({ lines: [line({ customerCode: 'NOB', customerName: 'No Billing', sku: '1' })] }),
      message:
        /^NOB CompanyID Missing Unable to process records for Atria Customer No Billing – Please add CompanyNumber from Autotask into Billing Identifier field on Customer\.$/,
    },
    {
      code: 'AT05',
      situation: 'the company is not in Autotask',
      scenario: () => ({ lines: [line({ customerCode: 'GHO', customerName: 'Ghost', billingId: '999', sku: '1' })] }),
      message:
        /^No Company with Customer Number for 999 Found\. Check Autotask to see if the customer: Ghost with Company Number: 999 exists in Autotask\.$/,
    },
    {
      code: 'AT06',
      situation: 'the company has no Recurring Services contract',
      scenario: () => ({
        lines: [
          line({ customerCode: 'NWT', customerName: 'Northwind', billingId: 'NORTHWIND', sku: String(demo.services.m365BusinessPremium) }),
        ],
      }),
      message:
        /^No Contract exists for the Customer Northwind\. Check Autotask to see if customer Northwind and a Recurring Service Contract with Contract Number: NORTHWIND exists in Autotask\.$/,
    },
    {
      code: 'AT07',
      situation: 'a line has no SKU',
      scenario: () => ({
        lines: [
          ...contosoLines(),
          line({
            customerCode: 'CON',
            customerName: 'Contoso',
            billingId: String(demo.companies.contoso),
            lineDescription: 'Unmapped plan',
          }),
        ],
      }),
      message: /^Contoso SKU Missing in Atria: Contoso: Skipped Line Unmapped plan for Customer Contoso as no SKU was provided\.$/,
    },
    {
      code: 'AT08',
      situation: 'the SKU is no Autotask service',
      scenario: () => ({
        lines: [
          line({
            customerCode: 'CON',
            customerName: 'Contoso',
            billingId: String(demo.companies.contoso),
            sku: '424242',
            lineDescription: 'Odd plan',
          }),
        ],
      }),
      message: /^Contoso Service Missing in Autotask: Contoso: Skipped Line Odd plan for Customer Contoso as no SKU was provided\.$/,
    },
    {
      code: 'AT09',
      situation: 'the quantity changed',
      scenario: () => ({ lines: contosoLines('12') }),
      message: /^Contoso Quantity Update: Line located for M365 users with Product ID \d+ and updated from 10 to 12\.$/,
    },
    {
      code: 'AT10',
      situation: 'the quantity is unchanged',
      scenario: () => ({}),
      message: /^Contoso Contract Line for Microsoft 365 Business Premium located – quantity is unchanged\.$/,
    },
    {
      code: 'AT11',
      situation: 'a missing line is created when AllowAtriaCreateItems is True',
      scenario: () => ({
        params: { AllowAtriaCreateItems: 'True' },
        lines: [
          ...contosoLines(),
          line({
            customerCode: 'CON',
            customerName: 'Contoso',
            billingId: String(demo.companies.contoso),
            sku: String(demo.services.backupPerGb),
            quantity: '100',
          }),
        ],
      }),
      message: /^Contoso Contract Line Added: New Line added for Managed Backup per GB with Service ID \d+\.$/,
    },
    {
      code: 'AT12',
      situation: 'a line is missing and AllowAtriaCreateItems is False',
      scenario: () => ({
        lines: [
          line({
            customerCode: 'CON',
            customerName: 'Contoso',
            billingId: String(demo.companies.contoso),
            sku: String(demo.services.backupPerGb),
            lineDescription: 'Backup GB',
            quantity: '100',
          }),
        ],
      }),
      message:
        /^Contoso Contract Line Missing in Autotask: Skipped Line Backup GB with Product ID \d+ for Customer Contoso as the Contract Service SKU could not be located in Autotask\.$/,
    },
    {
      code: 'AT13',
      situation: 'a service is no longer provisioned',
      scenario: () => ({ lines: contosoLines('10', '0') }),
      message:
        /^Contoso Line located for Hosted Exchange mailbox \(per mailbox\) with Service Name Hosted Exchange Mailbox is being removed in the selected billing period\. The Quantity is updated from 25\.00 to 0\.00\.$/,
    },
    {
      code: 'AT14',
      situation: 'Autotask refuses the contract service change',
      scenario: () => {
        sim.injectFaults({
          status: 500,
          match: { method: 'POST', path: /ServiceAdjustments/i },
          body: { errors: ['Contract is locked.'] },
        });
        return { lines: contosoLines('11') };
      },
      message: /^Contoso ContractService \d+, Error Details .*Contract is locked\./,
    },
    {
      code: 'AT15',
      situation: 'no records in the period',
      scenario: () => ({ lines: [] }),
      message: new RegExp(`^No records found in Atria for billing period: ${PERIOD.endDate}\\.$`),
    },
    {
      code: 'AT16',
      situation: 'the secrets cannot be decrypted',
      scenario: () => ({
        secrets: () => {
          throw new Error('Unsupported state or unable to authenticate data');
        },
      }),
      message: /^Failed to retrieve autotask secrets\. Error occurred is: Unsupported state or unable to authenticate data\.$/,
    },
    {
      code: 'AT17',
      situation: 'no BaseUrl and ZoneUser is not an email',
      scenario: () => ({ params: { BaseUrl: '', ZoneUser: 'fred' } }),
      message: /^Failed to Retrieve Job Task Parameters: Error reported was: user email is not valid\.$/,
    },
    {
      code: 'AT18',
      situation: 'a secret is empty',
      scenario: () => ({ secrets: () => ({ ...SECRETS, Secret: '' }) }),
      message: /^Failed to validate Autotask secrets\. Secret must have a valid value\.$/,
    },
    {
      code: 'AT19',
      situation: 'BillingPeriod names no period',
      scenario: () => ({ params: { BillingPeriod: '1999-01-01' } }),
      message: /^Incorrect billing period date or format recognized\.$/,
    },
    {
      code: 'AT20',
      situation: 'de-provisioned customers start',
      scenario: () => ({}),
      message: /^Started Processing Deprovisioned Customers\.$/,
    },
    {
      code: 'AT21',
      situation: 'de-provisioned customers end',
      scenario: () => ({}),
      message: /^Finished Processing Deprovisioned Customers\.$/,
    },
    {
      code: 'AT22',
      situation: 'the worker task starts',
      scenario: () => ({}),
      message: /^Autotask Worker Task Service autotask-psa started\.$/,
    },
    {
      code: 'AT23',
      situation: 'an Autotask answer cannot be deserialized',
      scenario: () => {
        sim.injectFaults({ status: 200, match: { method: 'POST', path: /Companies\/query/i }, body: 'this is not json' });
        return {};
      },
      message: /^Failed to Deserialize object: Error reported was: .*no items\/pageDetails/,
    },
    { code: 'AT24', situation: 'end of process', scenario: () => ({}), message: /^Billing Process Completed with status Succeeded\.$/ },
    {
      code: 'AT25',
      situation: 'a contract has no start date (data, not a connection error)',
      scenario: () => {
        sim.state.update('Contracts', { id: demo.contracts.contosoRecurring, startDate: null });
        return {};
      },
      message:
        /^Contoso Unexpected Autotask data: Contract \d+ has an invalid startDate \(null\)\. The customer is skipped until it is corrected\.$/,
    },
    {
      code: 'AT26',
      situation: 'several Recurring Service contracts are in force',
      scenario: () => {
        sim.state.addContract({
          companyID: demo.companies.contoso,
          contractName: 'Contoso Renewal',
          contractType: 7,
          startDate: `${PERIOD.startDate}T00:00:00`,
          endDate: '2099-12-31T00:00:00',
          status: 1,
        });
        return {};
      },
      message:
        /^Contoso Several Recurring Service contracts match: \d+ "Contoso Renewal" from \d{4}-\d{2}-01, \d+ "Contoso Managed Services" from \d{4}-01-01\. Using \d+ "Contoso Renewal" .*set the customer's PsaContractId property to choose\.$/,
    },
  ];

  it('covers every code of the seed table', () => {
    expect(cases.map((c) => c.code).sort()).toEqual(Object.keys(AT_CODES).sort());
  });

  it.each(cases)('$code when $situation', async ({ code, scenario, message }) => {
    const { log } = await run(scenario());
    const entries = log.find(code);
    expect(entries.length, `log was: ${log.codes().join(' ')}`).toBeGreaterThan(0);
    expect(entries[0]!.level).toBe(AT_CODES[code].level);
    if (message) expect(entries[0]!.message).toMatch(message);
  });
});

describe('Autotask sync behaviour', () => {
  it('changes units through adjustments dated at the period start, and a second run changes nothing (AT10)', async () => {
    const first = await run({ lines: contosoLines('12', '20') });
    expect(first.result.changes.map((c) => [c.action, c.from, c.to])).toEqual([
      ['update', 10, 12],
      ['update', 25, 20],
    ]);
    expect(units(demo.services.m365BusinessPremium)).toBe(12);
    expect(
      sim.state
        .adjustments()
        .slice(-2)
        .map((a) => [a.unitChange, a.effectiveDate]),
    ).toEqual([
      [2, `${PERIOD.startDate}T00:00:00`],
      [-5, `${PERIOD.startDate}T00:00:00`],
    ]);
    const adjustments = sim.state.adjustments().length;
    const second = await run({ lines: contosoLines('12', '20') });
    expect(second.result.changes).toEqual([]);
    expect(second.log.find('AT10')).toHaveLength(2);
    expect(sim.state.adjustments()).toHaveLength(adjustments);
  });

  it('dates changes today when ProRatedTransactions is True', async () => {
    const now = new Date();
    await run({ lines: contosoLines('11'), params: { ProRatedTransactions: true } });
    expect(sim.state.adjustments().at(-1)!.effectiveDate).toBe(`${now.toISOString().slice(0, 10)}T00:00:00`);
  });

  it('a dry run reports the diff and writes nothing', async () => {
    const before = sim.state.adjustments().length;
    const { result, log } = await run({ lines: contosoLines('3'), dryRun: true });
    expect(result.changes).toEqual([expect.objectContaining({ customerCode: 'CON', action: 'update', from: 10, to: 3 })]);
    expect(log.find('AT09')).toHaveLength(1);
    expect(sim.state.adjustments()).toHaveLength(before);
    expect(sim.requests.filter((r) => r.method !== 'GET' && !/query/i.test(r.path))).toEqual([]);
  });

  it('reduces a de-provisioned customer to zero between AT20 and AT21', async () => {
    const lines = contosoLines().map((l) => ({ ...l, deprovisioned: true }));
    const { log } = await run({ lines });
    const codes = log.codes();
    expect(codes.indexOf('AT13')).toBeGreaterThan(codes.indexOf('AT20'));
    expect(codes.indexOf('AT13')).toBeLessThan(codes.indexOf('AT21'));
    expect(units(demo.services.m365BusinessPremium)).toBe(0);
    expect(units(demo.services.hostedExchange)).toBe(0);
  });

  it('an API error for one customer does not stop the next', async () => {
    sim.injectFaults({ status: 500, match: { method: 'POST', path: /ServiceAdjustments/i } });
    const fabrikam = line({
      customerCode: 'FAB',
      customerName: 'Fabrikam',
      billingId: String(demo.companies.fabrikam),
      sku: String(demo.services.m365BusinessPremium),
      quantity: '9',
    });
    const { log, result } = await run({ lines: [...contosoLines('11'), fabrikam] });
    expect(log.find('AT14')).toHaveLength(1);
    expect(result.changes.map((c) => c.customerCode)).toEqual(['FAB']);
    expect(sim.state.unitsFor(demo.contracts.fabrikamRecurring, demo.services.m365BusinessPremium, PERIOD.endDate)).toBe(9);
    expect(log.find('AT24')[0]!.message).toContain('CompletedWithErrors');
  });

  it('finds the zone through ZoneUser when BaseUrl is blank', async () => {
    const { log } = await run({ params: { BaseUrl: '', ZoneUser: DEFAULT_AT_USER.userName } });
    expect(log.find('AT10')).toHaveLength(2);
    expect(sim.requests[0]!.path.toLowerCase()).toContain('zoneinformation');
  });

  it('maps SKUs by service name when SKUType says so, and honours CustomersFilter', async () => {
    const billingId = String(demo.companies.contoso);
    const lines = [
      line({ customerCode: 'CON', customerName: 'Contoso', billingId, sku: 'microsoft 365 business premium', quantity: '14' }),
      line({
        customerCode: 'FAB',
        customerName: 'Fabrikam',
        billingId: String(demo.companies.fabrikam),
        sku: 'Microsoft 365 Business Premium',
        quantity: '1',
      }),
    ];
    const { result } = await run({ lines, params: { SKUType: { name: 'name', type: 'string' }, CustomersFilter: ['con'] } });
    expect(result.changes).toEqual([expect.objectContaining({ customerCode: 'CON', from: 10, to: 14 })]);
  });
});

describe('Autotask sync: bad data and the contract choice (issue 11 §4, §6)', () => {
  const fabrikam = () =>
    line({
      customerCode: 'FAB',
      customerName: 'Fabrikam',
      billingId: String(demo.companies.fabrikam),
      sku: String(demo.services.m365BusinessPremium),
      quantity: '9',
    });

  it('a contract without dates is a warning naming the customer and the field; the run goes on with the next customer', async () => {
    sim.state.update('Contracts', { id: demo.contracts.contosoRecurring, startDate: null, endDate: null });
    const { log, result } = await run({ lines: [...contosoLines('11'), fabrikam()] });
    expect(log.find('AT02')).toEqual([]);
    expect(log.find('AT25').map((e) => [e.level, e.message])).toEqual([
      ['Warning', expect.stringMatching(/^Contoso .*Contract \d+ has an invalid startDate \(null\)/)],
      ['Warning', expect.stringMatching(/^Contoso .*Contract \d+ has an invalid endDate \(null\)/)],
    ]);
    expect(result.changes.map((c) => [c.customerCode, c.to])).toEqual([['FAB', 9]]);
    expect(log.find('AT24')[0]!.message).toContain('CompletedWithWarnings');
  });

  it('without a choice, the contract with the latest start date wins (AT26); PsaContractId picks another and silences AT26', async () => {
    const renewal = sim.state.addContract({
      companyID: demo.companies.contoso,
      contractName: 'Contoso Renewal',
      contractType: 7,
      startDate: `${PERIOD.startDate}T00:00:00`,
      endDate: '2099-12-31T00:00:00',
      status: 1,
    }).id;
    const ruled = await run({ lines: contosoLines('12'), params: { AllowAtriaCreateItems: true } });
    expect(ruled.log.find('AT26')).toHaveLength(1);
    expect(sim.state.unitsFor(renewal, demo.services.m365BusinessPremium, PERIOD.endDate)).toBe(12);
    expect(units(demo.services.m365BusinessPremium)).toBe(10);

    const chosen = await run({ lines: contosoLines('13').map((l) => ({ ...l, psaContractId: String(demo.contracts.contosoRecurring) })) });
    expect(chosen.log.find('AT26')).toEqual([]);
    expect(units(demo.services.m365BusinessPremium)).toBe(13);
    expect(sim.state.unitsFor(renewal, demo.services.m365BusinessPremium, PERIOD.endDate)).toBe(12);
  });

  it('a PsaContractId that is not a Recurring Service contract of the company is a warning, and nothing is written for the customer', async () => {
    const writes = sim.state.adjustments().length;
    const { log } = await run({ lines: contosoLines('14').map((l) => ({ ...l, psaContractId: String(demo.contracts.contosoHourly) })) });
    expect(log.find('AT25')[0]!.message).toMatch(
      /^Contoso Unexpected Autotask data: Customer property PsaContractId has an invalid PsaContractId \(\d+ \(not a Recurring Service contract of company \d+\)\)/,
    );
    expect(sim.state.adjustments()).toHaveLength(writes);
  });
});
