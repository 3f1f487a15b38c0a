import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { inTransaction } from '../../src/core/db/database.js';
import { createCustomer, type Customer } from '../../src/tenancy/customer.service.js';
import { createUser, getUser } from '../../src/tenancy/user.service.js';
import { provisionCustomerService, provisionUserService } from '../../src/services/service-assignment.service.js';
import { setServiceInstance, tieUserServiceInstances } from '../../src/services/service-instances.js';
import { errorOf, requestIdOf, startCortex, type CortexClient } from './support.js';

/** Seed 002 lines 2330–2830 ("Services"): every example, sent as the seed writes it. */
let t: TestContext;
let api: CortexClient;

async function customer(name: string, users: string[] = []): Promise<Customer> {
  return inTransaction(t.db, async (tx) => {
    const { customer: c } = await createCustomer(tx, t.admin, {
      name,
      fullname: `${name} Customer`,
      contactName: 'C',
      contactEmail: `c@${name}.local`,
      primaryDomain: `${name.toLowerCase()}.local`,
    });
    for (const u of ['admin', ...users]) await createUser(tx, t.admin, c, { name: u, password: { password: 'Xx-12345678' } });
    return c;
  });
}

beforeAll(async () => {
  t = await openTestContext();
  const csp = await customer('CSP', ['user01', 'FTC_u1']);
  const xtc = await customer('XTC', ['barryh', 'user1']);
  await customer('NEW');
  await customer('ZCSP');
  const ftc = await customer('FTC');
  const march = await customer('TestCust01');
  const crc = await customer('crc');
  await inTransaction(t.db, async (tx) => {
    await provisionCustomerService(tx, t.admin, csp, { service: { name: 'CRM2011' } });
    await setServiceInstance(tx, t.admin, csp, { name: 'CRM2011' }, { name: 'Site01', properties: { OrganizationName: 'Contoso' } });
    await setServiceInstance(tx, t.admin, csp, { name: 'CRM2011' }, { name: 'Site02' });
    await provisionCustomerService(tx, t.admin, csp, {
      service: { name: 'SharePoint2010' },
      resourceConfiguration: { FarmServer: 'SP01' },
    });
    await setServiceInstance(
      tx,
      t.admin,
      csp,
      { name: 'SharePoint2010' },
      { name: 'intranet', properties: { SiteUrl: 'https://intranet.csp.local' } },
    );
    for (const [name, service, instance] of [
      ['user01', 'CRM2011', 'Site01'],
      ['FTC_u1', 'SharePoint2010', 'intranet'],
    ] as const) {
      const user = await getUser(tx, t.admin, csp, { name });
      await provisionUserService(tx, t.admin, csp, user, { service: { name: service } });
      await tieUserServiceInstances(tx, t.admin, csp, user, { name: service }, [instance]);
    }
    await provisionCustomerService(tx, t.admin, ftc, { service: { name: 'FSS' }, properties: { FileShareServer: 'FTCFILE01' } });
    await provisionCustomerService(tx, t.admin, march, { service: { name: 'MARCH' } });
    // XTC already has Hosted Apps and Desktops with every user plan (no <userplan> named): the seed's SETs change it.
    await provisionCustomerService(tx, t.admin, xtc, { service: { name: 'HostedAppsandDesktops' }, plan: { name: 'Dedicated' } });
    await provisionCustomerService(tx, t.admin, crc, {
      service: { name: 'MySQL' },
      resourceConfiguration: { Server: 'mysql01', MaxDatabases: '5' },
    });
  });
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

const serviceOf = (r: { xml: any }) => r.xml.response.customer[0].service[0];

describe('querying services (seed 002, "Querying Services")', () => {
  it('CRM 2011 for a customer: one named instance, then all instances', async () => {
    const one = await api.post(`<?xml version="1.0" encoding="utf-8" ?>
<request action="GET" version="1.0" trace="true"> 
 <customer> 
   <name>CSP</name> 
   <service> 
     <name>CRM2011</name> 
     <instances> 
       <instance> 
         <name>Site01</name> 
       </instance> 
     </instances>
   </service> 
 </customer> 
</request>`);
    const s = serviceOf(one);
    expect(s.name).toBe('CRM2011');
    expect(s.instances.instance).toEqual([
      { name: 'Site01', status: 'Requested', properties: { property: [{ name: 'OrganizationName', value: 'Contoso' }] } },
    ]);
    const all = await api.post(`<?xml version="1.0" encoding="utf-8" ?>
<request action="GET" version="1.0" trace="true"> 
 <customer> 
   <name>CSP</name> 
   <service> 
     <name>CRM2011</name> 
     <instances /> 
   </service> 
 </customer> 
</request>`);
    expect(serviceOf(all).instances.instance.map((i: any) => i.name)).toEqual(['Site01', 'Site02']);
    const missing = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="GET" version="1.0"><customer><name>CSP</name><service><name>CRM2011</name><instances><instance><name>Nope</name></instance></instances></service></customer></request>`,
    );
    expect(errorOf(missing)).toEqual({ id: 10, message: "Instance 'Nope' of service 'CRM2011' not found." });
  });

  it('CRM 2011 for a user: the user service of user01_CSP', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8" ?>
<request action="GET" version="1.0" trace="true"> 
 <customer> 
   <name>CSP</name> 
   <user> 
     <name>user01_CSP</name> 
     <service> 
       <name>CRM2011</name> 
       <instances> 
         <instance> 
           <name>Site01</name> 
         </instance> 
       </instances> 
     </service> 
   </user> 
 </customer> 
</request>`);
    expect(errorOf(r)).toBeUndefined();
    const s = r.xml.response.customer[0].user[0].service[0];
    expect(Object.keys(s)).toEqual(['name', 'fullname', 'status', 'approvalpending', 'enabled', 'userplan', 'instances']);
    expect(s.userplan).toEqual([{ name: 'FULL', fullname: 'Full' }]);
    expect(s.instances).toEqual({ instance: [{ name: 'Site01' }] });
    const untied = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="GET" version="1.0"><customer><name>CSP</name><user><name>user01_CSP</name><service><name>CRM2011</name><instances><instance><name>Site02</name></instance></instances></service></user></customer></request>`,
    );
    expect(errorOf(untied)).toEqual({ id: 10, message: "Instance 'Site02' of service 'CRM2011' not found." });
  });

  it('File Sharing for a customer with <properties filter="all" />', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" trace="true" version="1.0">
 <customer>
   <name>FTC</name>
   <service>
     <name>FSS</name>
     <properties filter="all" />
   </service>
 </customer>
</request>`);
    const s = serviceOf(r);
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
      'properties',
    ]);
    expect(s.properties.property).toEqual([
      { name: 'FileShareServer', value: 'FTCFILE01' },
      { name: 'QuotaMB', value: 'Unlimited' },
    ]);
    expect(s.instances).toBeUndefined();
  });

  it('Hosted Apps & Desktops for a customer; before provisioning it shows the defaults (first package, every user plan enabled)', async () => {
    const xtc = serviceOf(
      await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" trace="true" version="1.0">
 <customer>
   <name>XTC</name>
   <service>
     <name>HostedAppsAndDesktops</name>
   </service>
 </customer>
</request>`),
    );
    expect(xtc.package.map((p: any) => [p.name, p.enabled])).toEqual([
      ['SharedsiteWebInterfacemode', 'False'],
      ['Dedicated', 'True'],
    ]);
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" trace="true" version="1.0">
 <customer>
   <name>NEW</name>
   <service>
     <name>HostedAppsAndDesktops</name>
   </service>
 </customer>
</request>`);
    const s = serviceOf(r);
    expect(s).toMatchObject({ name: 'HostedAppsandDesktops', status: 'NotProvisioned', approvalpending: 'False' });
    expect(s.package.map((p: any) => [p.name, p.enabled])).toEqual([
      ['SharedsiteWebInterfacemode', 'True'],
      ['Dedicated', 'False'],
    ]);
    expect(s.userplan.map((p: any) => [p.name, p.enabled])).toEqual([
      ['DESKTOPS', 'True'],
      ['OFFICEAPPS', 'True'],
    ]);
  });

  it('Mail Archiving for a customer with every property (the name has a leading space, as in the seed)', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" version="1.0"> 
 <customer>
   <name> TestCust01</name>
   <service>
     <name>MARCH</name>
     <properties filter="all" />
   </service>
 </customer>
</request>`);
    const s = serviceOf(r);
    expect(s.name).toBe('MARCH');
    expect(s.package).toEqual([{ name: 'Standard', fullname: 'Standard', enabled: 'True' }]);
    expect(s.properties.property).toEqual([{ name: 'RetentionYears', value: '7' }]);
  });

  it('MySQL for a customer with <resourceconfiguration />', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8" ?>
<request action="GET" version="1.0">
 <customer>
   <name>crc</name>
   <service>
     <name>MySQL</name>
     <resourceconfiguration />
   </service>
 </customer>
</request>`);
    expect(serviceOf(r).resourceconfiguration.property).toEqual([
      { name: 'Server', value: 'mysql01' },
      { name: 'MaxDatabases', value: '5' },
    ]);
  });

  it('SharePoint 2010 for a customer: resource configuration; properties with instances; both at once', async () => {
    const rc = await api.post(`<?xml version="1.0" encoding="utf-8"?> 
<request action="GET" version="1.0"> 
 <customer> 
   <name>CSP</name>
   <service>
     <name>SharePoint2010</name>
     <resourceconfiguration />
   </service>
 </customer>
</request>`);
    expect(serviceOf(rc).resourceconfiguration.property).toEqual([{ name: 'FarmServer', value: 'SP01' }]);
    const sites = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" trace="true" version="1.0">
 <customer>
   <name>CSP</name>
   <service>
     <name>Sharepoint2010</name>
     <properties filter="all" />
     <instances />
   </service>
 </customer>
</request>`);
    const s = serviceOf(sites);
    expect(s.name).toBe('SharePoint2010');
    expect(s.properties).toBe('');
    expect(s.instances.instance).toEqual([
      { name: 'intranet', status: 'Requested', properties: { property: [{ name: 'SiteUrl', value: 'https://intranet.csp.local' }] } },
    ]);
    const both = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="GET" version="1.0"><customer><name>CSP</name><service><name>SharePoint2010</name><resourceconfiguration /><instances /></service></customer></request>`,
    );
    expect(Object.keys(serviceOf(both)).slice(-2)).toEqual(['resourceconfiguration', 'instances']);
  });

  it('SharePoint sites for a user: FIND with <instances />', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="FIND" version="1.0">
 <customer>
   <name>CSP</name>
   <user>
     <name>FTC_u1_CSP</name>
     <service>
       <name>Sharepoint2010</name>
       <instances />
     </service>
   </user>
 </customer>
</request>`);
    const u = r.xml.response.customer[0].user[0];
    expect(u.name).toBe('FTC_u1_CSP');
    expect(u.service).toEqual([
      {
        name: 'SharePoint2010',
        fullname: 'SharePoint 2010',
        status: 'Requested',
        userplan: [{ name: 'Member', fullname: 'Member' }],
        instances: { instance: [{ name: 'intranet' }] },
      },
    ]);
  });
});

describe('per-user instances (seed 002: a user service "for the Site01 instance")', () => {
  const userCrm = (inner: string, action = 'SET') =>
    `<?xml version="1.0" encoding="utf-8"?><request action="${action}" version="1.0"><customer><name>CSP</name><user><name>user01_CSP</name><service><name>CRM2011</name>${inner}</service></user></customer></request>`;
  const tiedNames = async () =>
    (await api.post(userCrm('<instances />', 'GET'))).xml.response.customer[0].user[0].service[0].instances?.instance?.map(
      (i: any) => i.name,
    );

  it('a SET with <instances> ties the user service; the GET → SET round trip changes nothing', async () => {
    requestIdOf(await api.post(userCrm('<instances><instance><name>site02</name></instance></instances>')));
    expect(await tiedNames()).toEqual(['Site01', 'Site02']);
    const again = await api.post(
      userCrm('<instances><instance><name>Site01</name></instance><instance><name>Site02</name></instance></instances>'),
    );
    const noop = await t.db
      .selectFrom('provisioning_requests')
      .select('desired')
      .where('id', '=', requestIdOf(again))
      .executeTakeFirstOrThrow();
    expect(noop.desired).toEqual({ noChange: true });
  });

  it('an unknown instance answers code 10 and ties nothing', async () => {
    const before = await t.db.selectFrom('user_service_instances').select('instance_id').execute();
    const r = await api.post(
      userCrm('<instances><instance><name>Site01</name></instance><instance><name>Site99</name></instance></instances>'),
    );
    expect(errorOf(r)).toEqual({ id: 10, message: "Instance 'Site99' of service 'CRM2011' not found." });
    expect(await t.db.selectFrom('user_service_instances').select('instance_id').execute()).toEqual(before);
  });

  it('deleting the instance unties it; de-provisioning the user service removes every tie', async () => {
    requestIdOf(
      await api.post(
        `<?xml version="1.0" encoding="utf-8"?><request action="DELETE" version="1.0"><customer><name>CSP</name><service><name>CRM2011</name><instances><instance><name>Site02</name></instance></instances></service></customer></request>`,
      ),
    );
    expect(await tiedNames()).toEqual(['Site01']);
    requestIdOf(await api.post(userCrm('<status>NotProvisioned</status>')));
    const user = await t.db.selectFrom('users').select('id').where('name', '=', 'user01_CSP').executeTakeFirstOrThrow();
    const ties = await t.db
      .selectFrom('user_service_instances')
      .innerJoin('user_services', 'user_services.id', 'user_service_instances.user_service_id')
      .select('instance_id')
      .where('user_services.user_id', '=', user.id)
      .execute();
    expect(ties).toEqual([]);
  });
});

describe('provisioning services (seed 002, "Provisioning Services")', () => {
  it('File Sharing to a customer with its FileShareServer and the Basic package', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="SET" trace="true" version="1.0">
 <customer>
   <name>ZCSP</name>
   <service>
     <name>FSS</name>
     <status>Provisioned</status>
     <properties>
       <property>
         <name>FileShareServer</name>
         <value>CSPFILEHOST01</value>
       </property>
     </properties>
     <package>
       <name>Basic</name>
       <enabled>True</enabled>
     </package>
   </service>
 </customer>
</request>`);
    const id = requestIdOf(r);
    expect(
      await t.db.selectFrom('provisioning_requests').select(['entity', 'action']).where('id', '=', id).executeTakeFirstOrThrow(),
    ).toEqual({ entity: 'customer_service', action: 'provision' });
    const s = serviceOf(
      await api.post(
        `<?xml version="1.0" encoding="utf-8"?><request action="GET" version="1.0"><customer><name>ZCSP</name><service><name>FSS</name><properties /></service></customer></request>`,
      ),
    );
    expect(s.package.filter((p: any) => p.enabled === 'True').map((p: any) => p.name)).toEqual(['Basic']);
    // "Omitting the <userplan> tag does not cause any problems, and all three user plans can be provisioned to a user afterwards."
    expect(s.userplan.map((p: any) => p.enabled)).toEqual(['True', 'True', 'True']);
    expect(s.properties.property).toEqual([{ name: 'FileShareServer', value: 'CSPFILEHOST01' }]);
  });

  it('File Sharing without its required FileShareServer: code 19 naming the property, nothing written', async () => {
    const count = async (table: 'customer_services' | 'provisioning_requests' | 'service_changes') =>
      Number(
        (
          await t.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await Promise.all([count('customer_services'), count('provisioning_requests'), count('service_changes')]);
    const r = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="SET" version="1.0"><customer><name>NEW</name><service><name>FSS</name><status>Provisioned</status><package><name>Basic</name><enabled>True</enabled></package></service></customer></request>`,
    );
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({ id: 19, message: "The property 'FileShareServer' is required to provision service 'FSS'." });
    const blank = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="SET" version="1.0"><customer><name>NEW</name><service><name>FSS</name><properties><property><name>FileShareServer</name><value> </value></property></properties></service></customer></request>`,
    );
    expect(errorOf(blank)?.id).toBe(19);
    expect(await Promise.all([count('customer_services'), count('provisioning_requests'), count('service_changes')])).toEqual(before);
  });

  it('an instance without its required property: code 19, no instance added', async () => {
    const r = await api.post(
      `<?xml version="1.0" encoding="utf-8"?><request action="SET" version="1.0"><customer><name>crc</name><service><name>MySQL</name><instances><instance><name>db9</name></instance></instances></service></customer></request>`,
    );
    expect(errorOf(r)).toEqual({ id: 19, message: "The property 'DatabaseName' is required to provision an instance of service 'MySQL'." });
    expect(await t.db.selectFrom('service_instances').select('id').where('name', '=', 'db9').execute()).toEqual([]);
  });

  it('Hosted Apps and Desktops to a customer: the Shared Site package with Desktops enabled', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="SET" trace="true" version="1.0">
 <customer>
   <name>XTC</name>
   <service>
     <name>HostedAppsandDesktops</name>
     <package>
       <name>SharedsiteWebInterfacemode</name>
       <enabled>True</enabled>
     </package>
     <userplan>
       <name>DESKTOPS</name>
       <enabled>True</enabled>
     </userplan>
   </service>
 </customer>
</request>`);
    requestIdOf(r);
    const s = serviceOf(
      await api.post(
        `<?xml version="1.0" encoding="utf-8"?><request action="GET" version="1.0"><customer><name>XTC</name><service><name>HostedAppsandDesktops</name></service></customer></request>`,
      ),
    );
    expect(s.package.map((p: any) => [p.name, p.enabled])).toEqual([
      ['SharedsiteWebInterfacemode', 'True'],
      ['Dedicated', 'False'],
    ]);
    expect(s.userplan.map((p: any) => [p.name, p.enabled])).toEqual([
      ['DESKTOPS', 'True'],
      ['OFFICEAPPS', 'True'],
    ]);
  });

  it('Hosted Apps and Desktops to a user: two user plans at once, then the user GET shows both', async () => {
    const r = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="SET" trace="true" version="1.0">
 <customer>
   <name>XTC</name>
   <user>
     <name>user1_xtc</name>
     <service>
       <name>HostedAppsandDesktops</name>
       <userplan>
         <name>DESKTOPS</name>
       </userplan>
       <userplan>
         <name>OFFICEAPPS</name>
       </userplan>
     </service>
   </user>
 </customer>
</request>`);
    const id = requestIdOf(r);
    const children = await t.db.selectFrom('provisioning_requests').select('entity').where('parent_id', '=', id).execute();
    expect(children.map((c) => c.entity)).toEqual(['user_service', 'user_service']);
    requestIdOf(
      await api.post(
        `<?xml version="1.0" encoding="utf-8"?><request action="SET" version="1.0"><customer><name>XTC</name><user><name>barryh</name><service><name>HostedAppsandDesktops</name><userplan><name>DESKTOPS</name></userplan><userplan><name>OFFICEAPPS</name></userplan></service></user></customer></request>`,
      ),
    );
    const got = await api.post(`<?xml version="1.0" encoding="utf-8"?>
<request action="GET" trace="false" version="1.0">
 <customer>
   <name>XTC</name>
   <user>
     <name>barryh_XTC</name>
       <service>
         <name>HostedAppsAndDesktops</name>
       </service>
   </user>
 </customer>
</request>`);
    const s = got.xml.response.customer[0].user[0].service[0];
    expect(s).toMatchObject({ name: 'HostedAppsandDesktops', status: 'Requested', approvalpending: 'False', enabled: 'True' });
    expect(s.userplan).toEqual([
      { name: 'DESKTOPS', fullname: 'Desktops' },
      { name: 'OFFICEAPPS', fullname: 'Office Apps' },
    ]);
  });
});
