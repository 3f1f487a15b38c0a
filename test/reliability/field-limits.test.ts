/*
 * Issue 16 (11): fields had no length limit (address1 took 900 kB, a user name 100 kB, a token label
 * 100 kB). The domain functions refuse them now, so every API and the CLI do; nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { DomainError } from '../../src/core/errors.js';
import { createApiToken, TOKEN_FIELD_LIMITS, tokenSigningKey } from '../../src/tenancy/api-tokens/api-token.service.js';
import { CUSTOMER_FIELD_LIMITS } from '../../src/tenancy/customer.service.js';
import { USER_FIELD_LIMITS } from '../../src/tenancy/user.service.js';
import { basic, cortexErrorId, cortexRequest, openReliabilityApp, PROVIDER_ADMIN, type ReliabilityApp } from './support.js';

let r: ReliabilityApp;
beforeAll(async () => {
  r = await openReliabilityApp({}, 2);
});
afterAll(async () => r.close());

const counts = async () => ({
  customers: Number(
    (
      await r.t.db
        .selectFrom('customers')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
  users: Number(
    (
      await r.t.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
  tokens: Number(
    (
      await r.t.db
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
  requests: Number(
    (
      await r.t.db
        .selectFrom('provisioning_requests')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
});

const errorMessage = (body: string) => /<message>([^<]*)<\/message>/.exec(body)?.[1] ?? '';

describe('field lengths are refused with a clear error and nothing written', () => {
  it('CortexAPI: address1 of 900 kB on an existing customer and on a new one → error 1', async () => {
    const before = await counts();
    const name = r.tenant.customer.name;
    const update = await r.cortex(
      cortexRequest('SET', `<customer><name>${name}</name><address1>${'a'.repeat(900_000)}</address1></customer>`),
    );
    expect({ status: update.statusCode, id: cortexErrorId(update) }).toEqual({ status: 400, id: 1 });
    expect(errorMessage(update.body)).toBe('The customer address1 is longer than 255 characters (900000 given).');
    const create = await r.cortex(
      cortexRequest(
        'SET',
        `<customer><fullname>Long Address Ltd</fullname><contactname>A</contactname><contactemail>a@long.example</contactemail><primarydomain>long.example</primarydomain><address1>${'a'.repeat(900_000)}</address1></customer>`,
      ),
    );
    expect({ status: create.statusCode, id: cortexErrorId(create) }).toEqual({ status: 400, id: 1 });
    expect(await counts()).toEqual(before);
    const row = await r.t.db.selectFrom('customers').select('address1').where('name', '=', name).executeTakeFirstOrThrow();
    expect(row.address1).toBeNull();
  });

  it('CortexAPI: a user name of 100 kB → error 15, on create and with a valid user in the same SET', async () => {
    const before = await counts();
    const name = r.tenant.customer.name;
    const res = await r.cortex(
      cortexRequest(
        'SET',
        `<customer><name>${name}</name><user><name>ok1</name></user><user><name>${'u'.repeat(100_000)}</name></user></customer>`,
      ),
    );
    expect({ status: res.statusCode, id: cortexErrorId(res) }).toEqual({ status: 400, id: 15 });
    expect(errorMessage(res.body)).toBe(`The user name is longer than ${USER_FIELD_LIMITS.name} characters (100000 given).`);
    // The whole SET is one transaction: the valid user before the bad one is not created either.
    expect(await counts()).toEqual(before);
  });

  it('CortexAPI: a display name past its limit on an existing user → error 15, the user unchanged', async () => {
    const user = r.tenant.adminUser.name;
    const res = await r.cortex(
      cortexRequest(
        'SET',
        `<customer><name>${r.tenant.customer.name}</name><user><name>${user}</name><displayname>${'d'.repeat(257)}</displayname></user></customer>`,
      ),
    );
    expect({ status: res.statusCode, id: cortexErrorId(res) }).toEqual({ status: 400, id: 15 });
    const row = await r.t.db.selectFrom('users').select('display_name').where('name', '=', user).executeTakeFirstOrThrow();
    expect(row.display_name?.length ?? 0).toBeLessThan(257);
  });

  it('a token label of 100 kB: the domain function (CLI) and the console both refuse it', async () => {
    const before = await counts();
    const key = tokenSigningKey(r.t.ctx.secrets);
    const refused = await inTransaction(r.t.db, (tx) => createApiToken(tx, r.t.admin, key, { label: 'l'.repeat(100_000) })).catch((e) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'ValidationError', message: 'The token label is longer than 100 characters (100000 given).' });
    const res = await r.app.inject({
      method: 'POST',
      url: '/api/console/tokens',
      headers: { authorization: basic(PROVIDER_ADMIN), 'content-type': 'application/json' },
      payload: JSON.stringify({ label: 'l'.repeat(100_000) }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'ValidationError', field: 'label' });
    expect(await counts()).toEqual(before);
  });

  it('the console refuses what the domain refuses, with the field named', async () => {
    const res = await r.app.inject({
      method: 'PATCH',
      url: `/api/console/customers/${r.tenant.customer.id}`,
      headers: { authorization: basic(PROVIDER_ADMIN), 'content-type': 'application/json' },
      payload: JSON.stringify({ address1: 'a'.repeat(CUSTOMER_FIELD_LIMITS.address1! + 1) }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ field: 'address1' });
  });

  it('property maps: too many, an overlong value or a NUL in a name → error 19', async () => {
    const name = r.tenant.customer.name;
    const many = Array.from({ length: 101 }, (_, i) => `<property><name>p${i}</name><value>v</value></property>`).join('');
    for (const properties of [many, `<property><name>p</name><value>${'v'.repeat(4001)}</value></property>`]) {
      const res = await r.cortex(cortexRequest('SET', `<customer><name>${name}</name><properties>${properties}</properties></customer>`));
      expect({ status: res.statusCode, id: cortexErrorId(res) }, res.body.slice(0, 300)).toEqual({ status: 400, id: 19 });
    }
  });

  it("the console's schemas state the domain's limits", () => {
    type Doc = {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: { properties: Record<string, { maxLength?: number }> } }> } }>
      >;
    };
    const doc = r.app.swagger() as unknown as Doc;
    const bodyOf = (path: string) => doc.paths[path]!.post!.requestBody.content['application/json']!.schema.properties;
    const stated = (path: string, limits: Record<string, number>) =>
      Object.fromEntries(Object.keys(limits).map((field) => [field, bodyOf(path)[field]?.maxLength]));
    expect(stated('/api/console/customers', CUSTOMER_FIELD_LIMITS)).toEqual(CUSTOMER_FIELD_LIMITS);
    expect(stated('/api/console/customers/{id}/users', USER_FIELD_LIMITS)).toEqual(USER_FIELD_LIMITS);
    expect(stated('/api/console/tokens', TOKEN_FIELD_LIMITS)).toEqual(TOKEN_FIELD_LIMITS);
  });

  it('values at the limit are accepted', async () => {
    const res = await r.cortex(
      cortexRequest(
        'SET',
        `<customer><name>${r.tenant.customer.name}</name><address1>${'a'.repeat(CUSTOMER_FIELD_LIMITS.address1!)}</address1></customer>`,
      ),
    );
    expect(cortexErrorId(res), res.body.slice(0, 300)).toBeUndefined();
  });
});
