import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { line, MemoryLog, monthOf, StaticQuantitySource } from '../shared/sync-testing.js';
import type { SyncLine } from '../shared/sync-source.js';
import { CW_CODES, type CwCode } from './sync-codes.js';
import { ConnectWiseSimulator, DEFAULT_CW_CREDENTIALS } from './simulator.js';
import type { ConnectWiseDemo } from './sim-demo.js';
import { CONNECTWISE_DEFAULTS, syncConnectWise, type ConnectWiseSyncParameters } from './sync.js';

const PERIOD = monthOf(new Date());
let sim: ConnectWiseSimulator;
let demo: ConnectWiseDemo;

beforeEach(async () => {
  sim = await ConnectWiseSimulator.start();
  demo = sim.seedDemo();
});
afterEach(async () => {
  await sim.stop();
});

const SECRETS = {
  CompanyName: DEFAULT_CW_CREDENTIALS.companyId,
  PublicKey: DEFAULT_CW_CREDENTIALS.publicKey,
  PrivateKey: DEFAULT_CW_CREDENTIALS.privateKey,
  ClientID: DEFAULT_CW_CREDENTIALS.clientId,
};

interface Scenario {
  params?: Partial<ConnectWiseSyncParameters>;
  secrets?: () => Record<string, string>;
  lines?: SyncLine[];
  source?: StaticQuantitySource;
  dryRun?: boolean;
}

async function run(s: Scenario = {}) {
  const log = new MemoryLog();
  const result = await syncConnectWise({
    params: { ...CONNECTWISE_DEFAULTS, ApiUrl: sim.apiUrl, ...s.params },
    secrets: s.secrets ?? (() => SECRETS),
    source: s.source ?? new StaticQuantitySource(s.lines ?? contosoLines()),
    log,
    dryRun: s.dryRun ?? false,
    client: { retry: { maxAttempts: 2 }, sleep: async () => {} },
  });
  return { log, result };
}

/** Contoso as in the simulator's demo: M365-BP at 10 and HEX-MBX at 25. */
function contosoLines(m365 = '10', exchange = '25'): SyncLine[] {
  return [
    line({
      customerCode: 'CON',
      customerName: 'Contoso',
      billingId: 'CONTOSO',
      sku: 'M365-BP',
      lineDescription: 'M365 users',
      quantity: m365,
    }),
    line({
      customerCode: 'CON',
      customerName: 'Contoso',
      billingId: 'CONTOSO',
      sku: 'HEX-MBX',
      lineDescription: 'Mailboxes',
      quantity: exchange,
    }),
  ];
}
const contoso = (fields: Partial<SyncLine>) => line({ customerCode: 'CON', customerName: 'Contoso', billingId: 'CONTOSO', ...fields });
const qty = (sku: string) => sim.state.quantityOf(demo.agreements.contosoCloud, sku);

describe('ConnectWise sync: every CW code in the situation seed 004 describes', () => {
  const cases: { code: CwCode; situation: string; scenario: () => Scenario; message: RegExp }[] = [
    {
      code: 'CW01',
      situation: 'start of process',
      scenario: () => ({}),
      message: new RegExp(`^Billing Process Started : For Billing Period ${PERIOD.endDate}$`),
    },
    {
      code: 'CW02',
      situation: 'ConnectWise rejects the keys',
      scenario: () => ({ secrets: () => ({ ...SECRETS, PrivateKey: 'wrong' }) }),
      message: /^Failed to connect to Connectwise: Error reported was : .*401/,
    },
    {
      code: 'CW03',
      situation: 'Tenantry billing data cannot be read',
      scenario: () => ({
        source: Object.assign(new StaticQuantitySource([]), {
          lines: async () => {
            throw new Error('billing database offline');
          },
        }),
      }),
      message: /^Failed to connect to Atria: Error reported was : billing database offline$/,
    },
    {
      code: 'CW04',
      situation: 'a customer has no Billing Identifier',
      scenario: () => ({ lines: [line({ customerCode: 'NOB', customerName: 'No Billing', sku: 'M365-BP' })] }),
      message:
        /^NOB CompanyID Missing Unable to process records for Atria Customer No Billing – Please add CompanyID from ConnectWise into Billing Identifier field on Customer$/,
    },
    {
      code: 'CW05',
      situation: 'a line has no SKU',
      scenario: () => ({ lines: [...contosoLines(), contoso({ lineDescription: 'Unmapped plan' })] }),
      message: /^CON SKU Missing in Atria : CON : Skipped Line Unmapped plan for Customer Contoso as no SKU was provided$/,
    },
    {
      code: 'CW06',
      situation: 'the product is not in the ConnectWise catalog (or inactive)',
      scenario: () => ({ lines: [contoso({ sku: 'FAX-LINE', lineDescription: 'Fax' })] }),
      message:
        /^CON Product Missing : Skipped Line Fax with Product ID FAX-LINE for Customer Contoso as the SKU could not be located in ConnectWise\. Please add this product in ConnectWise portal$/,
    },
    {
      code: 'CW07',
      situation: 'the quantity changed',
      scenario: () => ({ lines: contosoLines('12') }),
      message: /^CON Quantity Update : Line located for M365 users with Product ID M365-BP and updated from 10 to 12$/,
    },
    {
      code: 'CW08',
      situation: 'a missing addition is created when AllowAtriaCreateAdditions is True',
      scenario: () => ({
        params: { AllowAtriaCreateAdditions: 'True' },
        lines: [...contosoLines(), contoso({ sku: 'BKP-GB', lineDescription: 'Backup GB', quantity: '100' })],
      }),
      message: /^CON Contract Line Added : New Line added for Backup GB with Product ID BKP-GB$/,
    },
    {
      code: 'CW09',
      situation: 'the quantity is unchanged',
      scenario: () => ({}),
      message: /^CON Contract Line for M365 users located – quantity is unchanged$/,
    },
    {
      code: 'CW10',
      situation: 'reading or updating an addition fails',
      scenario: () => {
        sim.injectFaults({
          status: 400,
          match: { method: 'PATCH', path: /additions/ },
          body: { code: 'InvalidObject', message: 'addition is locked', errors: [] },
        });
        return { lines: contosoLines('11') };
      },
      message: /^CON Contract Line M365 users, SKU M365-BP, Error Details .*addition is locked/,
    },
    {
      code: 'CW11',
      situation: 'the catalog lookup for a product fails',
      scenario: () => {
        sim.injectFaults({
          status: 400,
          count: 2,
          match: { method: 'GET', path: /procurement\/catalog/ },
          body: { code: 'InvalidObject', message: 'catalog unavailable', errors: [] },
        });
        return {};
      },
      message: /^Contoso Catalog Item M365 users, SKU M365 users, Error Details .*catalog unavailable/,
    },
    {
      code: 'CW12',
      situation: 'creating an addition fails',
      scenario: () => {
        sim.injectFaults({
          status: 400,
          match: { method: 'POST', path: /additions/ },
          body: { code: 'InvalidObject', message: 'addition object is invalid', errors: [] },
        });
        return { params: { AllowAtriaCreateAdditions: true }, lines: [contoso({ sku: 'BKP-GB', quantity: '5' })] };
      },
      message: /^Contoso Addition BKP-GB, Error Details .*addition object is invalid/,
    },
    {
      code: 'CW13',
      situation: 'a ConnectWise answer cannot be deserialized',
      scenario: () => {
        sim.injectFaults({ status: 200, match: { method: 'GET', path: /company\/companies/ }, body: 'not json' });
        return {};
      },
      message: /^Failed to Deserialize object: Error reported was: .*did not return an array/,
    },
    {
      code: 'CW14',
      situation: 'the company has no agreement of the type',
      scenario: () => ({ lines: [line({ customerCode: 'NWT', customerName: 'Northwind', billingId: 'NORTHWIND', sku: 'M365-BP' })] }),
      message:
        /^No Agreement exists for the customer Northwind\. Check ConnectWise to see if the customer: Northwind with Id: NORTHWIND and agreement type: Cloud and Hosting Services exists\.$/,
    },
    {
      code: 'CW15',
      situation: 'no records in the period',
      scenario: () => ({ lines: [] }),
      message: new RegExp(`^No records found in Atria for billing period ${PERIOD.endDate}\\.$`),
    },
    {
      code: 'CW16',
      situation: 'the secrets cannot be decrypted',
      scenario: () => ({
        secrets: () => {
          throw new Error('Unsupported state or unable to authenticate data');
        },
      }),
      message: /^Failed to retrieve ConnectWise secrets\. Error occurred is: Unsupported state or unable to authenticate data$/,
    },
    {
      code: 'CW17',
      situation: 'ApiUrl is empty',
      scenario: () => ({ params: { ApiUrl: '' } }),
      message: /^Failed to Retrieve Job Task Parameters: Error reported was: api url is not available$/,
    },
    {
      code: 'CW18',
      situation: 'a secret is missing',
      scenario: () => ({ secrets: () => ({ ...SECRETS, ClientID: '' }) }),
      message: /^Failed to validate ConnectWise secrets\. ClientID must have a valid value$/,
    },
    {
      code: 'CW19',
      situation: 'BillingPeriod names no period',
      scenario: () => ({ params: { BillingPeriod: '1999-01-01' } }),
      message: /^Incorrect billing period date or format$/,
    },
    {
      code: 'CW24',
      situation: 'an addition comes back without a quantity (data, not a connection error)',
      scenario: () => {
        sim.injectFaults({
          status: 200,
          match: { method: 'GET', path: /additions/ },
          body: [{ id: 5, product: { identifier: 'M365-BP' }, billCustomer: 'Billable' }],
        });
        return {};
      },
      message:
        /^Contoso\| Unexpected ConnectWise data: Addition 5 has an invalid quantity \(missing\)\. The customer is skipped until it is corrected$/,
    },
    {
      code: 'CW25',
      situation: 'several agreements of the type match the company',
      scenario: () => {
        sim.state.addAgreement({
          companyIdentifier: 'CONTOSO',
          typeName: CONNECTWISE_DEFAULTS.AgreementType,
          name: 'Contoso Cloud 2',
          startDate: '2020-01-01T00:00:00Z',
        });
        return {};
      },
      message:
        /^Contoso\| Several agreements of type Cloud and Hosting Services match: \d+ "Contoso Cloud Services" from \d{4}-01-01, \d+ "Contoso Cloud 2" from 2020-01-01\. Using \d+ "Contoso Cloud Services" .*set the customer's PsaAgreementId property to choose$/,
    },
    {
      code: 'CW20',
      situation: 'a product was removed from the customer',
      scenario: () => ({ lines: contosoLines('10', '0') }),
      message:
        /^Contoso\| Line located for Mailboxes with Product ID HEX-MBX is been removed in the selected billing period\. The Quantity is updated from 25\.00 to 0\.00$/,
    },
    {
      code: 'CW21',
      situation: 'AgreementType names no agreement type',
      scenario: () => ({ params: { AgreementType: 'Nonexistent Type' } }),
      message: /^Invalid agreement type\. Please check agreement type in job parameters\.$/,
    },
    {
      code: 'CW22',
      situation: 'the addition is absent and AllowAtriaCreateAdditions is False',
      scenario: () => ({ lines: [contoso({ sku: 'BKP-GB', lineDescription: 'Backup GB', quantity: '3' })] }),
      message:
        /^Contract Line Missing in ConnectWise : Skipped Line Backup GB with Product ID BKP-GB for Customer Contoso as the SKU could not be located in ConnectWise$/,
    },
    { code: 'CW23', situation: 'end of process', scenario: () => ({}), message: /^Billing Process Completed with status Succeeded$/ },
  ];

  it('covers every code of the seed table', () => {
    expect(cases.map((c) => c.code).sort()).toEqual(Object.keys(CW_CODES).sort());
  });

  it.each(cases)('$code when $situation', async ({ code, scenario, message }) => {
    const { log } = await run(scenario());
    const entries = log.find(code);
    expect(entries.length, `log was: ${log.codes().join(' ')}`).toBeGreaterThan(0);
    expect(entries[0]!.level).toBe(CW_CODES[code].level);
    expect(entries[0]!.message).toMatch(message);
  });
});

describe('ConnectWise sync behaviour', () => {
  it('updates quantities, zeroes removed lines, and a second run changes nothing (CW09)', async () => {
    const first = await run({ lines: contosoLines('12', '0') });
    expect(first.result.changes.map((c) => [c.sku, c.action, c.from, c.to])).toEqual([
      ['M365-BP', 'update', 10, 12],
      ['HEX-MBX', 'zero', 25, 0],
    ]);
    expect([qty('M365-BP'), qty('HEX-MBX')]).toEqual([12, 0]);
    const second = await run({ lines: contosoLines('12', '0') });
    expect(second.result.changes).toEqual([]);
    expect(second.log.find('CW09')).toHaveLength(2);
  });

  it("zeroes a removed product's addition rather than cancelling it (seed 004 CW20), so the product can come back on the same line", async () => {
    const exchange = () => sim.state.additionsOf(demo.agreements.contosoCloud).filter((a) => a.product.identifier === 'HEX-MBX');
    const before = exchange().map((a) => a.id);
    await run({ lines: contosoLines('10', '0') });
    expect(exchange().map((a) => [a.id, a.quantity, a.cancelledDate ?? null])).toEqual([[before[0], 0, null]]);
    const back = await run({ lines: contosoLines('10', '4') });
    expect(back.log.find('CW22')).toEqual([]);
    expect(back.log.find('CW07')[0]!.message).toBe(
      'CON Quantity Update : Line located for Mailboxes with Product ID HEX-MBX and updated from 0 to 4',
    );
    expect(exchange().map((a) => [a.id, a.quantity])).toEqual([[before[0], 4]]);
  });

  it('creates an addition when allowed, once', async () => {
    const lines = [...contosoLines(), contoso({ sku: 'BKP-GB', quantity: '40' })];
    await run({ lines, params: { AllowAtriaCreateAdditions: 'True' } });
    expect(qty('BKP-GB')).toBe(40);
    const again = await run({ lines, params: { AllowAtriaCreateAdditions: 'True' } });
    expect(again.result.changes).toEqual([]);
  });

  it('a dry run reports the diff and writes nothing', async () => {
    const { result } = await run({
      lines: [...contosoLines('3'), contoso({ sku: 'BKP-GB', quantity: '7' })],
      params: { AllowAtriaCreateAdditions: 'True' },
      dryRun: true,
    });
    expect(result.changes.map((c) => [c.sku, c.action, c.from, c.to])).toEqual([
      ['M365-BP', 'update', 10, 3],
      ['BKP-GB', 'create', 0, 7],
    ]);
    expect(qty('M365-BP')).toBe(10);
    expect(sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('zeroes a de-provisioned customer and carries on after an error for another', async () => {
    sim.injectFaults({
      status: 400,
      match: { method: 'PATCH', path: new RegExp(`/agreements/${demo.agreements.fabrikamCloud}/`) },
      body: { code: 'InvalidObject', message: 'locked', errors: [] },
    });
    const fabrikam = line({ customerCode: 'FAB', customerName: 'Fabrikam', billingId: 'FABRIKAM', sku: 'M365-BP', quantity: '9' });
    const gone = contosoLines().map((l) => ({ ...l, deprovisioned: true }));
    const { log } = await run({ lines: [fabrikam, ...gone] });
    expect(log.find('CW10')).toHaveLength(1);
    expect(log.find('CW20')).toHaveLength(2);
    expect([qty('M365-BP'), qty('HEX-MBX')]).toEqual([0, 0]);
    expect(log.find('CW23')[0]!.message).toBe('Billing Process Completed with status CompletedWithErrors');
  });
});

describe('ConnectWise sync: bad data and the agreement choice (issue 11 §4, §6)', () => {
  it('an addition without a quantity is a warning naming the customer and the field; the next customer is still processed', async () => {
    sim.injectFaults({
      status: 200,
      match: { method: 'GET', path: new RegExp(`agreements/${demo.agreements.contosoCloud}/additions`) },
      body: [{ id: 5, product: { identifier: 'M365-BP' } }],
    });
    const fabrikam = line({ customerCode: 'FAB', customerName: 'Fabrikam', billingId: 'FABRIKAM', sku: 'M365-BP', quantity: '9' });
    const { log, result } = await run({ lines: [...contosoLines('11'), fabrikam] });
    expect(log.find('CW02')).toEqual([]);
    expect(log.find('CW24')).toEqual([
      expect.objectContaining({ level: 'Warning', message: expect.stringMatching(/^Contoso\| .*Addition 5 has an invalid quantity/) }),
    ]);
    expect(result.changes.map((c) => [c.customerCode, c.to])).toEqual([['FAB', 9]]);
  });

  it('without a choice, the agreement with the latest start date wins (CW25); PsaAgreementId picks another', async () => {
    const newer = sim.state.addAgreement({
      companyIdentifier: 'CONTOSO',
      typeName: CONNECTWISE_DEFAULTS.AgreementType,
      name: 'Contoso Cloud 2026',
      startDate: '2098-01-01T00:00:00Z',
    }).id;
    const ruled = await run({ lines: contosoLines('12'), params: { AllowAtriaCreateAdditions: true } });
    expect(ruled.log.find('CW25')).toHaveLength(1);
    expect(sim.state.quantityOf(newer, 'M365-BP')).toBe(12);
    expect(qty('M365-BP')).toBe(10);
    const chosen = await run({ lines: contosoLines('13').map((l) => ({ ...l, psaAgreementId: String(demo.agreements.contosoCloud) })) });
    expect(chosen.log.find('CW25')).toEqual([]);
    expect(qty('M365-BP')).toBe(13);
    const wrong = await run({ lines: contosoLines('14').map((l) => ({ ...l, psaAgreementId: String(demo.agreements.contosoProjects) })) });
    expect(wrong.log.find('CW24')[0]!.message).toMatch(/PsaAgreementId .*not an active agreement of the type for company CONTOSO/);
    expect(qty('M365-BP')).toBe(13);
  });
});
