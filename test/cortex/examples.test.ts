import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createCustomer } from '../../src/tenancy/customer.service.js';
import { createUser } from '../../src/tenancy/user.service.js';
import { provisionCustomerService } from '../../src/services/service-assignment.service.js';
import { signIn } from '../../src/tenancy/sign-in/sign-in.js';
import { startCortex, errorOf, requestIdOf, request, type CortexClient, type CortexReply } from './support.js';

let t: TestContext;
let api: CortexClient;

/** Seed 002's discovery customer: "ATest Customer" with File Sharing (FSS) and plans FULL/READ/LIST. */
beforeAll(async () => {
  t = await openTestContext();
  await inTransaction(t.db, async (tx) => {
    const { customer } = await createCustomer(tx, t.admin, {
      name: 'ATest',
      fullname: 'ATest Customer',
      contactName: 'A',
      contactEmail: 'a@atest.local',
      primaryDomain: 'atest.local',
    });
    await createUser(tx, t.admin, customer, { name: 'test', password: { password: 'Xx-12345678' } });
    await provisionCustomerService(tx, t.admin, customer, {
      service: { name: 'FSS' },
      plan: { name: 'FULL' },
      properties: { FileShareServer: 'ATESTFILE01' },
      userPlans: ['FULL', 'READ', 'LIST'].map((name) => ({ plan: { name }, enabled: true })),
    });
    const { customer: bac } = await createCustomer(tx, t.admin, {
      name: 'BAC',
      fullname: 'Basic API Customer',
      contactName: 'Admin',
      contactEmail: 'Admin@csm.local',
      primaryDomain: 'csm.local',
    });
    await createUser(tx, t.admin, bac, { name: 'admin', password: { password: 'Xx-12345678' } });
    await createCustomer(tx, t.admin, {
      name: 'ZCSP',
      fullname: 'Z Customer',
      contactName: 'Z',
      contactEmail: 'z@z.local',
      primaryDomain: 'z.local',
    });
    await createCustomer(tx, t.admin, {
      name: 'AA',
      fullname: 'Reseller AA',
      contactName: 'A',
      contactEmail: 'a@aa.local',
      primaryDomain: 'aa.local',
      isReseller: true,
    });
  });
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

const requestCount = async () =>
  Number(
    (
      await t.db
        .selectFrom('provisioning_requests')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A SET that changes nothing answers with one request, complete at once, that provisions nothing. */
async function expectNothingProvisioned(reply: CortexReply, before: number): Promise<void> {
  const id = requestIdOf(reply);
  expect(await requestCount()).toBe(before + 1);
  const row = await t.db.selectFrom('provisioning_requests').select(['status', 'desired']).where('id', '=', id).executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'Provisioned', desired: { noChange: true } });
  const log = await t.db.selectFrom('request_log').select('message').where('request_id', '=', id).execute();
  expect(log.map((l) => l.message)).toEqual(['No changes to provision']);
}

describe('SET request discovery (seed 002, lines 880–1275)', () => {
  it('step 1: FIND lists the customer services with location and status', async () => {
    const r = await api.post(request('FIND', '<customer><fullname>ATest Customer</fullname><service/></customer>'));
    const c = r.xml.response.customer[0];
    expect(Object.keys(c)).toEqual(['name', 'id', 'fullname', 'billingid', 'primarydomain', 'status', 'service']);
    const fss = c.service.find((s: any) => s.name === 'FSS');
    expect(fss).toEqual({ name: 'FSS', fullname: 'File Sharing', location: 'Unassigned', status: 'Requested' });
    expect(c.service.find((s: any) => s.name === 'HE').status).toBe('NotProvisioned');
  });

  it('step 2: GET details the customer service as in the seed', async () => {
    const r = await api.post(request('GET', '<customer><fullname>ATest Customer</fullname><service><name>FSS</name></service></customer>'));
    const c = r.xml.response.customer[0];
    expect(Object.keys(c)).toEqual(['name', 'id', 'fullname', 'service']);
    const s = c.service[0];
    expect(Object.keys(s)).toEqual([
      'name',
      'fullname',
      'location',
      'userlimit',
      'isbilled',
      'status',
      'approvalpending',
      'enabled',
      'userplan',
      'package',
    ]);
    expect(s.userlimit).toBe('Unlimited');
    expect(s.isbilled).toBe('True');
    expect(s.approvalpending).toBe('False');
    expect(s.userplan.map((p: any) => p.name)).toEqual(['FULL', 'READ', 'LIST']);
    expect(s.userplan[0]).toEqual({ name: 'FULL', fullname: 'Full', userlimit: 'Unlimited', used: 'False', enabled: 'True' });
    expect(s.package.find((p: any) => p.name === 'FULL').enabled).toBe('True');
  });

  it('step 3: the GET response sent back as a SET changes nothing and succeeds', async () => {
    const got = await api.post(
      request('GET', '<customer><fullname>ATest Customer</fullname><service><name>FSS</name></service></customer>'),
    );
    const before = await requestCount();
    const asSet = got.body.replace('<response version="1.0">', '<request version="1.0" action="SET">').replace('</response>', '</request>');
    const r = await api.post(asSet);
    expect(r.status, r.body).toBe(200);
    expect(errorOf(r)).toBeUndefined();
    await expectNothingProvisioned(r, before);
  });

  it('steps 4–5: a SET with only the user limit changes it to 5', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request version="1.0" action="SET">
 <customer>
   <name>ATest</name>
   <service>
     <name>FSS</name>
     <userlimit>5</userlimit>
   </service>
 </customer>
</request>`);
    requestIdOf(r);
    const got = await api.post(request('GET', '<customer><name>ATest</name><service><name>FSS</name></service></customer>'));
    expect(got.xml.response.customer[0].service[0].userlimit).toBe('5');
  });

  it('rejects a user limit that is neither a number nor Unlimited with code 7', async () => {
    const r = await api.post(
      request('SET', '<customer><name>ATest</name><service><name>FSS</name><userlimit>lots</userlimit></service></customer>'),
    );
    expect(errorOf(r)?.id).toBe(7);
  });
});

describe('advanced properties', () => {
  it('GET customer with <properties detail="true"/> and a round trip of the full customer', async () => {
    const set = await api.post(
      request(
        'SET',
        '<customer><name>ATest</name><properties><property><name>Colour</name><value>Blue</value></property></properties></customer>',
      ),
    );
    requestIdOf(set);
    const r = await api.post(request('GET', '<customer><name>ATest</name><properties detail="true"/></customer>'));
    const c = r.xml.response.customer[0];
    expect(c.properties.property).toEqual([{ name: 'Colour', value: 'Blue' }]);
    expect(c.contactemail).toBe('a@atest.local');
    const before = await requestCount();
    const back = await api.post(
      r.body.replace('<response version="1.0">', '<request version="1.0" action="SET">').replace('</response>', '</request>'),
    );
    expect(back.status, back.body).toBe(200);
    await expectNothingProvisioned(back, before);
  });

  it('GET user with properties and additionalproperties', async () => {
    const r = await api.post(
      request(
        'GET',
        '<customer><name>ATest</name><user><name>test_ATest</name><properties detail="true"/><additionalproperties/></user></customer>',
      ),
    );
    const u = r.xml.response.customer[0].user[0];
    expect(u.name).toBe('test_ATest');
    expect(u).toHaveProperty('properties');
    expect(u).toHaveProperty('additionalproperties');
    const before = await requestCount();
    const back = await api.post(
      r.body.replace('<response version="1.0">', '<request version="1.0" action="SET">').replace('</response>', '</request>'),
    );
    expect(back.status, back.body).toBe(200);
    await expectNothingProvisioned(back, before);
  });

  it('GET customer service and user plan properties with detail and filter="all"', async () => {
    const r = await api.post(
      request(
        'GET',
        '<customer><name>ATest</name><service><name>FSS</name><properties detail="true" filter="all"/><userplan><name>FULL</name><properties detail="true" filter="all"/></userplan></service></customer>',
      ),
    );
    const s = r.xml.response.customer[0].service[0];
    const names = s.properties.property.map((p: any) => p.name);
    expect(names).toEqual(['FileShareServer', 'QuotaMB']);
    expect(s.properties.property[1]).toMatchObject({ name: 'QuotaMB', value: 'Unlimited', displayname: 'Quota (MB)', type: 'limit' });
    expect(s.userplan[0]).toHaveProperty('properties');
  });

  it('GET user service user plan properties', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>ATest</name><user><name>test_ATest</name><service><name>FSS</name><userplan><name>FULL</name></userplan></service></user></customer>',
        ),
      ),
    );
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request version="1.0" action="GET">
 <customer>
   <name>ATest</name>
   <user>
     <name>test_ATest</name>
     <service>
       <name>FSS</name>
       <userplan>
         <name>FULL</name>
         <properties detail="true" filter="all"/>
       </userplan>
     </service>
   </user>
 </customer>
</request>`);
    const s = r.xml.response.customer[0].user[0].service[0];
    expect(s.userplan[0].name).toBe('FULL');
    expect(s.userplan[0]).toHaveProperty('properties');
  });

  it('sets and reads a customer service resource configuration', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>ATest</name><service><name>FSS</name><resourceconfiguration><property><name>Server</name><value>fs01</value></property></resourceconfiguration></service></customer>',
        ),
      ),
    );
    const r = await api.post(request('GET', '<customer><name>ATest</name><service><name>FSS</name></service></customer>'));
    expect(r.xml.response.customer[0].service[0].resourceconfiguration.property).toEqual([{ name: 'Server', value: 'fs01' }]);
  });

  it('rejects an undefined service property with code 19 and changes nothing', async () => {
    const before = await requestCount();
    const r = await api.post(
      request(
        'SET',
        '<customer><name>ATest</name><service><name>FSS</name><properties><property><name>Nope</name><value>1</value></property></properties></service></customer>',
      ),
    );
    expect(errorOf(r)?.id).toBe(19);
    expect(await requestCount()).toBe(before);
  });
});

describe('useful techniques and multi-item provisioning', () => {
  it('provisions two users in one request under one parent request', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="SET"> 
<customer>
<name>BAC</name>
<user>
<name>User3</name>
</user>
<user>
<name>User4</name>
</user>
</customer>
</request>`);
    const id = requestIdOf(r);
    const children = await t.db
      .selectFrom('provisioning_requests')
      .select(['entity', 'sequence'])
      .where('parent_id', '=', id)
      .orderBy('sequence')
      .execute();
    expect(children.map((c) => c.entity)).toEqual(['user', 'user']);
  });

  it('provisions HE with two user packages (multi-user-plan example)', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="SET" version="1.0">
<customer>
<name>BAC</name>
<service>
<name>HE</name> 
<version>2010</version>                   
<userpackage>
<fullname>Ex10 Basic</fullname>
<enabled>True</enabled> 
</userpackage>
                   <userpackage>
<fullname>Ex10 Full</fullname>
<enabled>True</enabled> 
</userpackage>
<package>
<name>Basic</name> 
<enabled>True</enabled> 
</package>
</service>
</customer>
</request>`);
    requestIdOf(r);
    const got = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" version="1.0"> 
<customer>
<name>BAC</name>
<service>
<name>HE</name>
</service>
</customer>
</request>`);
    const he = got.xml.response.customer[0].service[0];
    expect(he.userpackage.filter((p: any) => p.enabled === 'True').map((p: any) => p.fullname)).toEqual(['Ex10 Basic', 'Ex10 Full']);
  });

  it('creates a customer and provisions HE in one request, all or nothing', async () => {
    const xml = (domain: string, pkg: string) => `<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="SET"> 
<customer> 
<fullname>Second API Customer</fullname> 
<contactname>Admin</contactname> 
<contactemail>Admin@csm.local</contactemail> 
<primarydomain>${domain}</primarydomain>  
<parent>
<fullname>Service Provider</fullname>
</parent>
<service>
<name>HE</name> 
<version>2010</version>                   
<userpackage>
<fullname>Ex10 Basic</fullname>
<enabled>True</enabled> 
</userpackage>
<package>
<name>${pkg}</name> 
<enabled>True</enabled> 
</package>
</service>
</customer> 
</request>`;
    const before = await requestCount();
    const bad = await api.post(xml('second.local', 'NoSuchPackage'));
    expect(errorOf(bad)?.id).toBe(10);
    expect(await requestCount()).toBe(before);
    expect((await api.post(request('FIND', '<customer><fullname>Second API Customer</fullname></customer>'))).body).toMatch(
      /<response version="1.0" \/>/,
    );
    const ok = await api.post(xml('second.local', 'Basic'));
    const id = requestIdOf(ok);
    const children = await t.db
      .selectFrom('provisioning_requests')
      .select('entity')
      .where('parent_id', '=', id)
      .orderBy('sequence')
      .execute();
    expect(children.map((c) => c.entity)).toEqual(['customer', 'customer_service']);
  });

  it('finds all services for a user, held or not', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>BAC</name><user><name>User3</name><service><name>HE</name><userpackage><fullname>Ex10 Full</fullname></userpackage></service></user></customer>',
        ),
      ),
    );
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="FIND" trace="false" version="1.0">
 <customer>
   <name>BAC</name>
   <user>
     <name>User3_BAC</name>
     <service />
   </user>
 </customer>
</request>`);
    const u = r.xml.response.customer[0].user[0];
    expect(u.service).toEqual([
      { name: 'HE', fullname: 'Hosted Exchange', status: 'Requested', userpackage: [{ name: 'Ex10Full', fullname: 'Ex10 Full' }] },
    ]);
  });

  it('enforces a user plan limit with code 10', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>BAC</name><service><name>HE</name><userpackage><fullname>Ex10 Full</fullname><enabled>True</enabled><userlimit>1</userlimit></userpackage></service></customer>',
        ),
      ),
    );
    const r = await api.post(
      request(
        'SET',
        '<customer><name>BAC</name><user><name>User4</name><service><name>HE</name><userpackage><fullname>Ex10 Full</fullname></userpackage></service></user></customer>',
      ),
    );
    expect(errorOf(r)?.id).toBe(10);
    expect(errorOf(r)?.message).toMatch(/user limit \(1\)/);
  });

  it('lists the services a reseller can resell: only those provisioned to it', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>AA</name><service><name>Reseller</name></service><service><name>HE</name></service><service><name>FSS</name><properties><property><name>FileShareServer</name><value>AAFILE01</value></property></properties></service></customer>',
        ),
      ),
    );
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" version="1.0"> 
<customer>
<name>AA</name>
<service>
<name>Reseller</name>
</service>
</customer>
</request>`);
    const s = r.xml.response.customer[0].service[0];
    expect(s.name).toBe('Reseller');
    expect(s.services.service.map((x: any) => x.name)).toEqual(['FSS', 'HE', 'Reseller']);
  });

  it("a reseller's customer is offered, and can be provisioned with, only what the reseller resells (code 21 otherwise)", async () => {
    const created = await api.post(
      request(
        'SET',
        '<customer><name>AAC</name><fullname>AA Customer</fullname><contactname>C</contactname><contactemail>c@aac.local</contactemail><primarydomain>aac.local</primarydomain><parent><name>AA</name></parent></customer>',
      ),
    );
    requestIdOf(created);
    const found = await api.post(request('FIND', '<customer><name>AAC</name><service /></customer>'));
    expect(found.xml.response.customer[0].service.map((x: any) => [x.name, x.status])).toEqual([
      ['FSS', 'NotProvisioned'],
      ['HE', 'NotProvisioned'],
      ['Reseller', 'NotProvisioned'],
    ]);
    const before = await requestCount();
    const refused = await api.post(request('SET', '<customer><name>AAC</name><service><name>MySQL</name></service></customer>'));
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toEqual({ id: 21, message: "Service 'MySQL' is not available to customer 'AAC'." });
    expect(await requestCount()).toBe(before);
    expect(errorOf(await api.post(request('GET', '<customer><name>AAC</name><service><name>MySQL</name></service></customer>')))?.id).toBe(
      21,
    );
    requestIdOf(
      await api.post(
        request('SET', '<customer><name>AAC</name><service><name>HE</name><package><name>Basic</name></package></service></customer>'),
      ),
    );
    const provider = await api.post(request('FIND', '<customer><name>AA</name><service /></customer>'));
    expect(provider.xml.response.customer[0].service.length).toBeGreaterThan(10);
  });

  it('adds, lists and deletes instances of a multi-instance service', async () => {
    requestIdOf(await api.post(request('SET', '<customer><name>BAC</name><service><name>SharePoint2010</name></service></customer>')));
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>BAC</name><service><name>SharePoint2010</name><instances><instance><name>intranet</name></instance></instances></service></customer>',
        ),
      ),
    );
    const bad = await api.post(
      request(
        'SET',
        '<customer><name>BAC</name><service><name>HE</name><instances><instance><name>intranet</name></instance></instances></service></customer>',
      ),
    );
    expect(errorOf(bad)?.id).toBe(10);
    requestIdOf(
      await api.post(
        request(
          'SET',
          '<customer><name>BAC</name><service><name>MySQL</name><instances><instance><name>db1</name><properties><property><name>DatabaseName</name><value>db1</value></property></properties></instance></instances></service></customer>',
        ),
      ),
    );
    const got = await api.post(request('GET', '<customer><name>BAC</name><service><name>MySQL</name><instances /></service></customer>'));
    expect(got.xml.response.customer[0].service[0].instances.instance.map((i: any) => i.name)).toEqual(['db1']);
    const cannot = await api.post(request('DELETE', '<customer><name>BAC</name><service><name>MySQL</name></service></customer>'));
    expect(errorOf(cannot)?.id).toBe(10);
    requestIdOf(
      await api.post(
        request(
          'DELETE',
          '<customer><name>BAC</name><service><name>MySQL</name><instances><instance><name>db1</name></instance></instances></service></customer>',
        ),
      ),
    );
    const after = await api.post(request('GET', '<customer><name>BAC</name><service><name>MySQL</name><instances /></service></customer>'));
    expect(after.xml.response.customer[0].service[0].instances).toBe('');
  });
});

describe('user passwords (seed 002, lines 3413–3537)', () => {
  it('creates User1_CSP with a given password that must change at next logon and never expires', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8" ?>
<request action="SET" version="1.0">
  <customer>
     <name>${t.provider.name}</name>
     <user>
        <name>User1_${t.provider.name}</name>
        <password>
           <password>Hello123</password>
           <changeatnextlogon>true</changeatnextlogon>
           <expires>NEVER</expires>
        </password>
     </user>
  </customer>
</request>`);
    requestIdOf(r);
    const row = await t.db
      .selectFrom('users')
      .select(['id', 'change_at_next_logon', 'password_never_expires'])
      .where('name', '=', `User1_${t.provider.name}`)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ change_at_next_logon: true, password_never_expires: true });
    const caller = await signIn(t.db, { login: `User1_${t.provider.name}`, password: 'Hello123', address: '127.0.0.1' });
    expect(caller.userId).toBe(row.id);
  });

  it('generates a password when none is given, and rejects a bad expiry date with code 37', async () => {
    requestIdOf(await api.post(request('SET', `<customer><name>${t.provider.name}</name><user><name>User2</name></user></customer>`)));
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${t.provider.name}</name><user><name>User2</name><password><expires>31/12/2030</expires></password></user></customer>`,
      ),
    );
    expect(errorOf(r)?.id).toBe(37);
    requestIdOf(
      await api.post(
        request(
          'SET',
          `<customer><name>${t.provider.name}</name><user><name>User2</name><password><expires>2030-12-31</expires></password></user></customer>`,
        ),
      ),
    );
  });

  it('sets roles and rejects an unknown role with code 22', async () => {
    requestIdOf(
      await api.post(
        request(
          'SET',
          `<customer><name>BAC</name><user><name>User4</name><roles><role><name>Customer Administrator</name></role></roles></user></customer>`,
        ),
      ),
    );
    const got = await api.post(request('GET', '<customer><name>BAC</name><user><name>User4</name></user></customer>'));
    expect(got.xml.response.customer[0].user[0].roles.role).toEqual([{ name: 'Customer Administrator' }]);
    const bad = await api.post(
      request('SET', `<customer><name>BAC</name><user><name>User4</name><roles><role><name>Wizard</name></role></roles></user></customer>`),
    );
    expect(errorOf(bad)?.id).toBe(22);
  });
});

describe('customer status and enabled (seed 002, "Customers")', () => {
  const doc = (inner: string) => `<?xml version="1.0" encoding="utf-8"?>
<request action="SET" trace="true" version="1.0">
 <customer>
   <name>ZCSP</name>
   ${inner}
 </customer>
</request>`;
  const zcsp = () => t.db.selectFrom('customers').select(['status', 'enabled']).where('name', '=', 'ZCSP').executeTakeFirstOrThrow();

  it('de-provisions and re-provisions ZCSP', async () => {
    const down = requestIdOf(await api.post(doc('<status>NotProvisioned</status>')));
    expect((await t.db.selectFrom('provisioning_requests').select('action').where('id', '=', down).executeTakeFirstOrThrow()).action).toBe(
      'deprovision',
    );
    await t.db.updateTable('customers').set({ status: 'NotProvisioned' }).where('name', '=', 'ZCSP').execute();
    const up = requestIdOf(await api.post(doc('<status>Provisioned</status>')));
    expect((await t.db.selectFrom('provisioning_requests').select('action').where('id', '=', up).executeTakeFirstOrThrow()).action).toBe(
      'provision',
    );
  });

  it('rejects an unknown status word with code 17', async () => {
    expect(errorOf(await api.post(doc('<status>Gone</status>')))?.id).toBe(17);
  });

  it('disables and enables ZCSP', async () => {
    requestIdOf(await api.post(doc('<enabled>false</enabled>')));
    expect((await zcsp()).enabled).toBe(false);
    requestIdOf(await api.post(doc('<enabled>true</enabled>')));
    expect((await zcsp()).enabled).toBe(true);
    expect(errorOf(await api.post(doc('<enabled>maybe</enabled>')))?.id).toBe(32);
  });
});

describe('user status (seed 002: <status> on a user)', () => {
  const doc = (status: string) =>
    request('SET', `<customer><name>ATest</name><user><name>test_ATest</name><status>${status}</status></user></customer>`);
  const userRow = () => t.db.selectFrom('users').select(['id', 'status']).where('name', '=', 'test_ATest').executeTakeFirstOrThrow();

  it('de-provisions the user with a child request per user service and a ledger row for each', async () => {
    const user = await userRow();
    const services = await t.db
      .selectFrom('user_services')
      .select('id')
      .where('user_id', '=', user.id)
      .where('status', '<>', 'NotProvisioned')
      .execute();
    expect(services.length).toBeGreaterThan(0);
    const id = requestIdOf(await api.post(doc('NotProvisioned')));
    const parent = await t.db
      .selectFrom('provisioning_requests')
      .select(['entity', 'entity_id', 'action'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(parent).toEqual({ entity: 'user', entity_id: user.id, action: 'deprovision' });
    const children = await t.db
      .selectFrom('provisioning_requests')
      .select(['entity', 'entity_id', 'action'])
      .where('parent_id', '=', id)
      .orderBy('id')
      .execute();
    expect(children).toEqual(services.map((s) => ({ entity: 'user_service', entity_id: s.id, action: 'deprovision' })));
    const removed = await t.db
      .selectFrom('service_changes')
      .select('user_service_id')
      .where('action', '=', 'user_service_removed')
      .where('user_id', '=', user.id)
      .execute();
    expect(removed.map((r) => r.user_service_id)).toEqual(services.map((s) => s.id));
  });

  it('re-provisions a de-provisioned user; accepts the seed\'s "Notprovisioned" spelling; repeats change nothing', async () => {
    await t.db.updateTable('users').set({ status: 'NotProvisioned' }).where('name', '=', 'test_ATest').execute();
    const again = await api.post(doc('Notprovisioned'));
    expect(
      await t.db.selectFrom('provisioning_requests').select('desired').where('id', '=', requestIdOf(again)).executeTakeFirstOrThrow(),
    ).toEqual({ desired: { noChange: true } });
    const up = requestIdOf(await api.post(doc('Provisioned')));
    expect(
      await t.db.selectFrom('provisioning_requests').select(['entity', 'action']).where('id', '=', up).executeTakeFirstOrThrow(),
    ).toEqual({ entity: 'user', action: 'provision' });
    expect((await userRow()).status).toBe('Requested');
  });

  it('refuses to de-provision the caller itself', async () => {
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${t.provider.name}</name><user><id>${t.admin.userId}</id><status>NotProvisioned</status></user></customer>`,
      ),
    );
    expect(errorOf(r)?.id).toBe(15);
  });
});
