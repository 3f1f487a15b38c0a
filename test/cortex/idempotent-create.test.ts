import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant } from '../support/fixtures.js';
import { startCortex, request, errorOf, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

// The README's customer SET: fullname and contact fields, no <name>.
const createBac = (extra = '') =>
  request(
    'SET',
    `<customer>${extra}<fullname>Basic API Customer</fullname><contactname>Admin</contactname><contactemail>Admin@csm.local</contactemail><primarydomain>csm.local</primarydomain></customer>`,
  );

async function customersNamed(fullname: string) {
  return t.db
    .selectFrom('customers')
    .select(['name', 'parent_id'])
    .where('fullname', '=', fullname)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
}

describe('a customer SET re-sent after a timeout', () => {
  it('creates the customer once; the same SET again is refused with code 1 naming the existing customer', async () => {
    const first = await api.post(createBac());
    expect(errorOf(first)).toBeUndefined();
    const again = await api.post(createBac());
    expect(errorOf(again)).toEqual({
      id: 1,
      message: `Customer 'Basic API Customer' already exists under '${t.provider.name}' as 'BAC'. To create another customer with this full name, give it an explicit new name (short code).`,
    });
    // Matched without regard to case or surrounding spaces.
    expect(
      errorOf(
        await api.post(
          request(
            'SET',
            '<customer><fullname> basic api CUSTOMER </fullname><contactname>A</contactname><contactemail>a@b.c</contactemail><primarydomain>x.local</primarydomain></customer>',
          ),
        ),
      )?.id,
    ).toBe(1);
    expect((await customersNamed('Basic API Customer')).map((c) => c.name)).toEqual(['BAC']);
  });

  it('an explicit new <name> creates a second customer with the same full name', async () => {
    const second = await api.post(createBac('<name>BAC2</name>'));
    expect(errorOf(second)).toBeUndefined();
    expect((await customersNamed('Basic API Customer')).map((c) => c.name)).toEqual(['BAC', 'BAC2']);
  });

  it('the same full name under another parent is a different customer', async () => {
    const reseller = await makeTenant(t.db, t.admin, { fullname: 'Idempotent Reseller', isReseller: true });
    const r = await api.post(createBac(`<parent><name>${reseller.customer.name}</name></parent>`));
    expect(errorOf(r)).toBeUndefined();
    const rows = await customersNamed('Basic API Customer');
    expect(rows.filter((c) => c.parent_id === reseller.customer.id)).toHaveLength(1);
  });

  it('a deleted customer does not block its full name', async () => {
    // What the engine does once a DELETE's de-provisioning completes.
    await t.db.updateTable('customers').set({ deleted_at: new Date() }).where('name', 'in', ['BAC', 'BAC2']).execute();
    expect(errorOf(await api.post(createBac()))).toBeUndefined();
    expect(await customersNamed('Basic API Customer')).toHaveLength(2);
  });
});
