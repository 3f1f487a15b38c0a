import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { inTransaction } from '../../src/core/db/database.js';
import { updateCustomer } from '../../src/tenancy/customer.service.js';
import { startCortex, errorOf, requestIdOf, type CortexClient } from './support.js';

let t: TestContext;
let api: CortexClient;

// The seed's "Basic API Customer Demo", request documents verbatim, over a real socket.
beforeAll(async () => {
  t = await openTestContext();
  await inTransaction(t.db, (tx) => updateCustomer(tx, t.admin, { id: t.provider.id }, { fullname: 'Citrix Service Provider' }));
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

const EMPTY = '<?xml version="1.0" encoding="utf-8"?>\n<response version="1.0" />\n';

describe('Basic API Customer Demo (seed 002)', () => {
  it('step 1: FIND of a free full name answers the empty response', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="FIND"> 
<customer>
<fullname>Basic API Customer</fullname>
</customer>
</request>`);
    expect(r.status).toBe(200);
    expect(r.body).toBe(EMPTY);
  });

  it('creates the customer under the provider, named BAC', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="SET"> 
<customer> 
<fullname>Basic API Customer</fullname> 
<contactname>Admin</contactname> 
<contactemail>Admin@csm.local</contactemail> 
<primarydomain>csm.local</primarydomain>  
<parent>
<fullname>Citrix Service Provider</fullname>
</parent>
</customer> 
</request>`);
    expect(r.status).toBe(200);
    requestIdOf(r);
    const found = await api.post(
      `<request version="1.0" action="FIND"><customer><fullname>Basic API Customer</fullname></customer></request>`,
    );
    const c = found.xml.response.customer[0];
    expect(c.name).toBe('BAC');
    expect(Object.keys(c)).toEqual(['name', 'id', 'fullname', 'billingid', 'primarydomain', 'status']);
    const bac = await t.db.selectFrom('customers').select(['parent_id']).where('name', '=', 'BAC').executeTakeFirstOrThrow();
    expect(bac.parent_id).toBe(t.provider.id);
  });

  it('answers code 6 with the seed message when a required field is missing', async () => {
    const r = await api.post(
      `<request version="1.0" action="SET"><customer><fullname>Half Customer</fullname><contactname>Admin</contactname></customer></request>`,
    );
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({
      id: 6,
      message: 'Unable to create customer. A new customer must specify the name, fullname, contactname, contactemail and primarydomain.',
    });
  });

  it('creates User1 and finds the customer users', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="SET"> 
<customer>
<name>BAC</name>
<user>
<name>User1</name>
</user>
</customer>
</request>`);
    expect(r.status).toBe(200);
    requestIdOf(r);
    const found = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="FIND"> 
<customer>
<fullname>Basic API Customer</fullname>
<user />
</customer>
</request>`);
    const users = found.xml.response.customer[0].user;
    expect(users).toHaveLength(1);
    expect(users[0].name).toBe('User1_BAC');
    expect(users[0].upn).toBe('User1@csm.local');
  });

  it('provisions Hosted Exchange with package Basic and user package Ex10 Basic', async () => {
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
<package>
<name>Basic</name> 
<enabled>True</enabled> 
</package>
</service>
</customer>
</request>`);
    expect(r.status).toBe(200);
    requestIdOf(r);
    const got = await api.post(
      `<request action="GET" version="1.0"><customer><name>BAC</name><service><name>HE</name></service></customer></request>`,
    );
    const he = got.xml.response.customer[0].service[0];
    expect(he.version).toBe('2010');
    expect(he.package.find((p: any) => p.name === 'Basic').enabled).toBe('True');
    expect(he.userpackage.find((p: any) => p.fullname === 'Ex10 Basic').enabled).toBe('True');
    expect(he.userpackage.find((p: any) => p.fullname === 'Ex10 Full').enabled).toBe('False');
  });

  it('provisions HE to User1 without naming version or package', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="SET"> 
<customer>
<name>BAC</name>
<user>
<name>User1</name>
<service>
<name>HE</name>
<userpackage>
<fullname>Ex10 Basic</fullname>
</userpackage>
</service>
</user>
</customer>
</request>`);
    expect(r.status).toBe(200);
    requestIdOf(r);
    const got = await api.post(
      `<request action="GET" version="1.0"><customer><name>BAC</name><user><name>User1</name><service><name>HE</name></service></user></customer></request>`,
    );
    const svc = got.xml.response.customer[0].user[0].service[0];
    expect(svc.status).toBe('Requested');
    expect(svc.userpackage[0].fullname).toBe('Ex10 Basic');
  });

  it('de-provisions the user service, the customer service and the customer', async () => {
    for (const xml of [
      `<request version="1.0" action="SET"><customer><name>BAC</name><user><name>User1</name><service><name>HE</name><status>NotProvisioned</status></service></user></customer></request>`,
      `<request version="1.0" action="SET"><customer><name>BAC</name><service><name>HE</name><status>Notprovisioned</status></service></customer></request>`,
      `<request version="1.0" action="SET"><customer><name>BAC</name><status>Notprovisioned</status></customer></request>`,
    ]) {
      const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>\n${xml}`);
      expect(r.status, r.body).toBe(200);
      const id = requestIdOf(r);
      const row = await t.db.selectFrom('provisioning_requests').select(['action']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.action).toBe('deprovision');
    }
  });

  it('refuses to delete the last user with the seed message, then deletes users and the customer', async () => {
    const del = `<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="DELETE"> 
<customer>
<name>BAC</name>
<user>
<name>User1</name>
</user>
</customer>
</request>`;
    const refused = await api.post(del);
    expect(refused.status).toBe(400);
    expect(errorOf(refused)?.message).toBe('Unable to delete the last user from the customer');
    requestIdOf(
      await api.post(`<request version="1.0" action="SET"><customer><name>BAC</name><user><name>User2</name></user></customer></request>`),
    );
    requestIdOf(await api.post(del));
    const gone = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request version="1.0" action="DELETE"> 
<customer>
<name>BAC</name>
</customer>
</request>`);
    requestIdOf(gone);
    expect((await api.post(`<request version="1.0" action="FIND"><customer><name>BAC</name></customer></request>`)).body).toBe(EMPTY);
    const missing = await api.post(`<request version="1.0" action="GET"><customer><name>BAC</name></customer></request>`);
    expect(errorOf(missing)).toEqual({ id: 34, message: "Customer 'BAC' not found." });
  });
});
