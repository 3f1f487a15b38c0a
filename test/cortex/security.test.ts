import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, PASSWORD, resell, type ResellerTree } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createUser, setRoles } from '../../src/tenancy/user.service.js';
import { provisionCustomerService } from '../../src/services/service-assignment.service.js';
import { ROLE } from '../../src/tenancy/permissions.js';
import { startCortex, errorOf, request, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;
let tree: ResellerTree;
let alpha: { user: string; password: string };

beforeAll(async () => {
  t = await openTestContext({ xmlBodyLimit: 64 * 1024 });
  tree = await makeResellerTree(t.db, t.admin);
  await resell(t.db, t.admin, tree.resellerB, ['FSS']);
  await inTransaction(t.db, async (tx) => {
    await provisionCustomerService(tx, t.admin, tree.customerB.customer, {
      service: { name: 'FSS' },
      properties: { FileShareServer: 'BFILE01' },
      userPlans: [{ plan: { name: 'FULL' }, enabled: true }],
    });
    const { user } = await createUser(tx, t.admin, tree.customerB.customer, { name: 'bob', password: { password: PASSWORD } });
    await setRoles(tx, t.admin, user.id, [ROLE.user]);
    const noApi = await createUser(tx, t.admin, tree.customerA.customer, { name: 'noapi', password: { password: PASSWORD } });
    await setRoles(tx, t.admin, noApi.user.id, [ROLE.developer]);
  });
  alpha = { user: tree.resellerA.adminUser.name, password: PASSWORD };
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

const changes = async () => {
  const [r, c, u, s] = await Promise.all(
    ['provisioning_requests', 'customers', 'users', 'customer_services'].map((table) =>
      t.db
        .selectFrom(table as 'customers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  const mod = await t.db
    .selectFrom('customers')
    .select((eb) => eb.fn.max('modified_at').as('m'))
    .executeTakeFirstOrThrow();
  return JSON.stringify([r, c, u, s, mod]);
};

describe('malformed requests: a clear error XML, never a stack trace, and nothing changes', () => {
  const cases: [string, string, number][] = [
    ['malformed XML', '<request version="1.0" action="SET"><customer><name>X</customer></request>', 3],
    ['no root request', '<customer><name>X</name></customer>', 3],
    ['missing version', '<request action="FIND"><customer/></request>', 3],
    ['missing action', '<request version="1.0"><customer/></request>', 5],
    ['wrong-cased action attribute', '<request version="1.0" Action="FIND"><customer/></request>', 5],
    ['unknown action', '<request version="1.0" action="PATCH"><customer/></request>', 5],
    [
      'a DOCTYPE',
      '<?xml version="1.0"?><!DOCTYPE request [<!ENTITY x "y">]><request version="1.0" action="FIND"><customer><name>&x;</name></customer></request>',
      3,
    ],
    [
      'billion laughs',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><request version="1.0" action="FIND"><customer><name>&lol2;</name></customer></request>',
      3,
    ],
    [
      'an external entity',
      '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><request version="1.0" action="FIND"><customer><name>&xxe;</name></customer></request>',
      3,
    ],
    [
      'nesting deeper than 32',
      `<request version="1.0" action="SET"><customer><name>X</name>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</customer></request>`,
      3,
    ],
    ['an empty body', '', 3],
  ];
  for (const [what, body, code] of cases) {
    it(`${what} → code ${code}`, async () => {
      const before = await changes();
      const r = await api.post(body);
      expect(r.status).toBe(400);
      expect(r.contentType).toBe('text/xml; charset=utf-8');
      expect(errorOf(r)?.id).toBe(code);
      expect(r.body).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(await changes()).toBe(before);
    });
  }

  it('an oversized body → code 3 with HTTP 400', async () => {
    const r = await api.post(request('SET', `<customer><name>X</name><fullname>${'x'.repeat(70 * 1024)}</fullname></customer>`));
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({ id: 3, message: 'The request is larger than 65536 bytes.' });
  });

  it('accepts any content type (PowerShell WebClient sends a form type)', async () => {
    const r = await api.post(request('FIND', '<customer><name>SP</name></customer>'), undefined, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(200);
  });

  it('ignores unknown and wrongly-cased tags', async () => {
    const r = await api.post(request('FIND', `<template/><customer><Name>nobody</Name><name>${t.provider.name}</name></customer>`));
    expect(r.xml.response.customer).toHaveLength(1);
  });

  it('a half-valid SET is rolled back entirely', async () => {
    const before = await changes();
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${tree.direct.customer.name}</name><user><name>Good1</name></user><user><name>bad name!</name></user></customer>`,
      ),
    );
    expect(errorOf(r)?.id).toBe(15);
    expect(await changes()).toBe(before);
  });
});

describe('authentication', () => {
  it('refuses a wrong password with 401, code 11 and a Basic challenge', async () => {
    const r = await api.post(request('FIND', '<customer/>'), { user: 'admin', password: 'wrong' });
    expect(r.status).toBe(401);
    expect(errorOf(r)?.id).toBe(11);
  });

  it('refuses a user without the API Access permission with 401 and code 12', async () => {
    const r = await api.post(request('FIND', '<customer/>'), { user: `noapi_${tree.customerA.customer.name}`, password: PASSWORD });
    expect(r.status).toBe(401);
    expect(errorOf(r)?.id).toBe(12);
  });

  it('slows failed logins per user name and address: 429 with Retry-After, code 11', async () => {
    const victim = { user: tree.direct.adminUser.name, password: 'guess' };
    for (let i = 0; i < 10; i++) await api.post(request('FIND', '<customer/>'), victim);
    const r = await api.post(request('FIND', '<customer/>'), { ...victim, password: PASSWORD });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(errorOf(r)?.id).toBe(11);
    expect(errorOf(r)?.message).toMatch(/try again in \d+ seconds/);
  });
});

describe("tenancy matrix: reseller A cannot see or change reseller B's customers, users or services", () => {
  const b = () => tree.customerB.customer.name;
  const attempts = (): [string, string, string, number][] => [
    ['FIND by name', 'FIND', `<customer><name>${b()}</name></customer>`, 0],
    ['FIND all', 'FIND', '<customer/>', 0],
    ['GET customer', 'GET', `<customer><name>${b()}</name></customer>`, 34],
    ['GET by id', 'GET', `<customer><id>${tree.customerB.customer.id}</id></customer>`, 34],
    ['GET user', 'GET', `<customer><name>${b()}</name><user><name>bob</name></user></customer>`, 34],
    ['GET service', 'GET', `<customer><name>${b()}</name><service><name>FSS</name></service></customer>`, 34],
    ['SET customer', 'SET', `<customer><name>${b()}</name><fullname>Hijacked</fullname></customer>`, 34],
    ['SET new user', 'SET', `<customer><name>${b()}</name><user><name>mole</name></user></customer>`, 34],
    [
      'SET service',
      'SET',
      `<customer><name>${b()}</name><service><name>FSS</name><status>NotProvisioned</status></service></customer>`,
      34,
    ],
    ['SET status', 'SET', `<customer><name>${b()}</name><status>NotProvisioned</status></customer>`, 34],
    [
      'SET under B as parent',
      'SET',
      `<customer><fullname>Plant</fullname><contactname>a</contactname><contactemail>a@a</contactemail><primarydomain>a.a</primarydomain><parent><name>${tree.resellerB.customer.name}</name></parent></customer>`,
      34,
    ],
    ['DELETE user', 'DELETE', `<customer><name>${b()}</name><user><name>bob</name></user></customer>`, 34],
    ['DELETE customer', 'DELETE', `<customer><name>${b()}</name></customer>`, 34],
  ];
  it('answers every action exactly as for a missing customer, and nothing changes', async () => {
    const before = await changes();
    for (const [what, action, inner, code] of attempts()) {
      const r = await api.post(request(action, inner), alpha);
      if (code === 0) {
        const names = (r.xml.response?.customer ?? []).map((c: any) => c.name);
        expect(names, what).not.toContain(b());
        expect(names, what).not.toContain(tree.resellerB.customer.name);
      } else {
        expect(errorOf(r), what).toEqual({ id: 34, message: expect.stringMatching(/^Customer '.+' not found\.$/) });
        expect(r.status, what).toBe(400);
      }
    }
    expect(await changes()).toBe(before);
  });

  it('a customer admin sees only its own customer', async () => {
    const own = { user: tree.customerA.adminUser.name, password: PASSWORD };
    const r = await api.post(request('FIND', '<customer/>'), own);
    expect(r.xml.response.customer.map((c: any) => c.name)).toEqual([tree.customerA.customer.name]);
    const up = await api.post(request('GET', `<customer><name>${tree.resellerA.customer.name}</name></customer>`), own);
    expect(errorOf(up)?.id).toBe(34);
  });

  it('a missing user answers code 16', async () => {
    const r = await api.post(
      request('GET', `<customer><name>${tree.customerA.customer.name}</name><user><name>ghost</name></user></customer>`),
      alpha,
    );
    expect(errorOf(r)?.id).toBe(16);
  });
});
