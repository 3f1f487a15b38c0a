import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeResellerTree, PASSWORD, resell, type ResellerTree } from '../support/fixtures.js';
import { inTransaction } from '../../src/core/db/database.js';
import { provisionCustomerService, provisionUserService } from '../../src/services/service-assignment.service.js';
import { createUser } from '../../src/tenancy/user.service.js';
import { errorOf, request, requestIdOf, startCortex, type CortexClient } from './support.js';
import '../../src/approvals/approval-gate.js';
import { expireApprovals } from '../../src/approvals/expire-approvals.js';

let t: TestContext;
let api: CortexClient;
let tree: ResellerTree;
const as = (tenant: { adminUser: { name: string } }) => ({ user: tenant.adminUser.name, password: PASSWORD });

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
  tree = await makeResellerTree(t.db, t.admin);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

describe('identity and global (seed 002)', () => {
  it('GET <identity/> answers the requesting user inside its customer', async () => {
    const r = await api.post(request('GET', '<identity/>'));
    expect(r.status).toBe(200);
    const c = r.xml.response.identity.customer[0];
    expect(c.name).toBe(t.provider.name);
    expect(Number(c.id)).toBe(t.provider.id);
    expect(c).toHaveProperty('billingid');
    expect(c.primarydomain).toBe(t.provider.primaryDomain);
    const u = c.user[0];
    expect(u.upn).toMatch(/@/);
    expect(u.location).toBe('Unassigned');
    expect(u.department).toBe('Unassigned');
  });

  it('GET <global/> answers the api and database versions', async () => {
    const r = await api.post(request('GET', '<global/>'));
    expect(r.xml.response.global.version.api).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.xml.response.global.version.database).toMatch(/^\d{4}_/);
  });
});

describe('locations (seed 002)', () => {
  it('SET creates a location with services and property definitions; FIND and GET show it', async () => {
    const set = await api.post(
      request(
        'SET',
        `<location><name>csm.Local</name><description>Main site</description>
      <service><name>HE</name></service><service><name>FSS</name></service>
      <customer><customerproperties><property><name>CostCentre</name><displayname>Cost Centre</displayname><value>100</value></property></customerproperties></customer>
      <user><additionalproperties><property><name>employeeType</name><displayname>Employee Type</displayname></property></additionalproperties></user></location>`,
      ),
    );
    expect(set.status).toBe(200);
    const id = requestIdOf(set);
    expect(await t.db.selectFrom('provisioning_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow()).toEqual({
      status: 'Provisioned',
    });
    expect(set.xml.response.location.name).toBe('csm.Local');
    requestIdOf(await api.post(request('SET', '<location><name>Second</name></location>')));

    const all = await api.post(request('FIND', '<location/>'));
    expect(all.xml.response.location.map((l: any) => l.name)).toEqual(['csm.Local', 'Second']);
    expect(all.xml.response.location[0].service).toBeUndefined();

    const withServices = await api.post(request('FIND', '<location><service/></location>'));
    expect(withServices.xml.response.location[0].service.map((s: any) => s.name)).toEqual(['FSS', 'HE']);

    const he = await api.post(request('FIND', '<location><service><name>HE</name></service></location>'));
    expect([he.xml.response.location].flat().map((l: any) => l.name)).toEqual(['csm.Local']);
    expect([he.xml.response.location].flat()[0].service.map((s: any) => s.name)).toEqual(['HE']);

    const get = await api.post(request('GET', '<location><name>csm.Local</name></location>'));
    expect([get.xml.response.location].flat()[0].description).toBe('Main site');

    const cp = await api.post(request('GET', '<location><name>csm.Local</name><customer><customerproperties/></customer></location>'));
    expect([cp.xml.response.location].flat()[0].customer[0].customerproperties.property[0]).toMatchObject({
      name: 'CostCentre',
      displayname: 'Cost Centre',
      value: '100',
    });

    const up = await api.post(request('GET', '<location><name>csm.Local</name><user><additionalproperties/></user></location>'));
    expect([up.xml.response.location].flat()[0].user[0].additionalproperties.property[0].name).toBe('employeeType');
  });

  it('only "Manage Catalog" may change locations; a missing one is code 20; one in use cannot be deleted (27)', async () => {
    const denied = await api.post(request('SET', '<location><name>Mine</name></location>'), as(tree.resellerA));
    expect(errorOf(denied)?.id).toBe(12);
    expect(errorOf(await api.post(request('GET', '<location><name>nowhere</name></location>')))?.id).toBe(20);
    const loc = await t.db.selectFrom('locations').select('id').where('name', '=', 'Second').executeTakeFirstOrThrow();
    await t.db.updateTable('customers').set({ location_id: loc.id }).where('id', '=', tree.direct.customer.id).execute();
    const inUse = await api.post(request('DELETE', '<location><name>Second</name></location>'));
    expect(errorOf(inUse)).toEqual({ id: 27, message: "The location 'Second' can not be deleted as it is in use." });
    await t.db.updateTable('customers').set({ location_id: null }).where('id', '=', tree.direct.customer.id).execute();
    requestIdOf(await api.post(request('DELETE', '<location><name>Second</name></location>')));
    expect(errorOf(await api.post(request('GET', '<location><name>Second</name></location>')))?.id).toBe(20);
  });
});

describe('provisioning requests (seed 002)', () => {
  let parentId: number;
  let childId: number;

  beforeAll(async () => {
    const r = await api.post(
      request(
        'SET',
        `<customer><name>${tree.customerA.customer.name}</name><user><name>Req1</name></user><user><name>Req2</name></user></customer>`,
      ),
      as(tree.resellerA),
    );
    parentId = requestIdOf(r);
    const child = await t.db
      .selectFrom('provisioning_requests')
      .select('id')
      .where('parent_id', '=', parentId)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    childId = child.id;
    await t.db.insertInto('request_log').values({ request_id: childId, level: 'info', message: 'creating the user' }).execute();
    await t.db
      .insertInto('request_times')
      .values({ request_id: childId, step: 'provision', started_at: new Date(), duration_ms: 12 })
      .execute();
  });

  it('GET by id, by parentid, with <log/> and <times/>', async () => {
    const one = await api.post(request('GET', `<request><id>${parentId}</id></request>`), as(tree.resellerA));
    expect(Number(one.xml.response.request.id)).toBe(parentId);
    expect(one.xml.response.request.status).toMatch(/Requested|InProgress|Provisioned|Pending/);
    const kids = await api.post(request('GET', `<request><parentid>${parentId}</parentid></request>`), as(tree.resellerA));
    const list = [kids.xml.response.request].flat();
    expect(list.length).toBe(2);
    expect(list.every((r: any) => Number(r.parentid) === parentId)).toBe(true);
    const log = await api.post(request('GET', `<request><id>${childId}</id><log/></request>`), as(tree.resellerA));
    expect([log.xml.response.request.log.entry].flat().map((e: any) => e.message)).toContain('creating the user');
    const times = await api.post(request('GET', `<request><id>${childId}</id><times/></request>`), as(tree.resellerA));
    expect([times.xml.response.request.times.time].flat()[0]).toMatchObject({ step: 'provision', duration: '12' });
  });

  it("a sibling reseller cannot see another's requests", async () => {
    const r = await api.post(request('GET', `<request><id>${parentId}</id></request>`), as(tree.resellerB));
    expect(errorOf(r)?.message).toBe(`Request '${parentId}' not found.`);
    expect(
      errorOf(await api.post(request('GET', `<request><parentid>${parentId}</parentid></request>`), as(tree.resellerB))),
    ).toBeDefined();
  });
});

describe('reports (seed 002)', () => {
  it('FIND lists reports with their parameter names', async () => {
    const r = await api.post(request('FIND', '<report />'));
    const q = [r.xml.response.report].flat().find((x: any) => x.name === 'Customers with Query');
    expect(q.parameter['@_name']).toBe('Name');
  });

  it('GET Customers with Stored Procedure as XML with column names (seed example shape)', async () => {
    const r = await api.post(
      request(
        'GET',
        `<report><name>Customers with Stored Procedure</name><parameter name="Name">R%</parameter><dataformat columnnames="true">xml</dataformat></report>`,
      ),
    );
    const report = r.xml.response.report;
    expect(report.name).toBe('Customers with Stored Procedure');
    expect(report).toHaveProperty('description');
    expect(report.result.column.map((c: any) => [c['#text'], c['@_type']])).toEqual([
      ['CustomerID', 'int'],
      ['LocationID', 'int'],
      ['Name', 'nvarchar'],
      ['Label', 'nvarchar'],
      ['BillingID', 'nvarchar'],
      ['PrimaryDomain', 'nvarchar'],
      ['StatusID', 'int'],
    ]);
    const rows = [report.result.row].flat();
    expect(rows.map((x: any) => x.Label)).toEqual(['Reseller Alpha', 'Reseller Beta']);
    expect(rows[0]).toHaveProperty('BillingID');
  });

  it('GET Customers with Query as TSV with a header, no timeout (seed example shape)', async () => {
    const r = await api.post(
      request(
        'GET',
        `<report><name>Customers with Query</name><timeout>0</timeout><parameter name="Name">${t.provider.name}</parameter><dataformat header="true">tsv</dataformat></report>`,
      ),
    );
    expect(r.body).toContain('<![CDATA[');
    const data: string = r.xml.response.report.result.data;
    const lines = data.trim().split('\n');
    expect(lines[0]!.split('\t').slice(0, 3)).toEqual(['CustomerID', 'Name', 'Label']);
    expect(lines[0]!.split('\t')).toHaveLength(22);
    expect(lines[1]!.split('\t').slice(0, 3)).toEqual([String(t.provider.id), t.provider.name, t.provider.fullname]);
    expect(lines[1]!.split('\t')[7]).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$/);
  });

  it('selects columns; a reseller sees only its subtree; an unknown report is code 14', async () => {
    const r = await api.post(
      request(
        'GET',
        `<report><name>Customers with Query</name><column>Name</column><dataformat columnnames="true">xml</dataformat></report>`,
      ),
      as(tree.resellerA),
    );
    expect(
      [r.xml.response.report.result.row]
        .flat()
        .map((x: any) => x.Name)
        .sort(),
    ).toEqual([tree.customerA.customer.name, tree.resellerA.customer.name].sort());
    expect(errorOf(await api.post(request('GET', '<report><name>Nope</name></report>')))?.id).toBe(14);
  });
});

describe('Hosted Exchange distribution groups and contacts (seed 002)', () => {
  let code: string;
  let fullname: string;
  const asA = () => as(tree.customerA);

  beforeAll(async () => {
    ({ name: code, fullname } = tree.customerA.customer);
    await resell(t.db, t.admin, tree.resellerA, ['HE']);
    await inTransaction(t.db, async (tx) => {
      await provisionCustomerService(tx, tree.resellerA.admin, tree.customerA.customer, {
        service: { name: 'HE' },
        userPlans: [{ plan: { name: 'Ex10Basic' }, enabled: true }],
      });
      for (const name of ['Batman', 'Robin']) {
        const { user } = await createUser(tx, tree.resellerA.admin, tree.customerA.customer, { name, displayName: name });
        await provisionUserService(tx, tree.resellerA.admin, tree.customerA.customer, user, { service: { name: 'HE' } });
      }
    });
  });

  it('SET creates groups with members, owners and addresses; GET lists them, filtered and paged', async () => {
    const set = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>HE</name><distributiongroups>
      <distributiongroup><displayname>Heroes</displayname><grouptype>Universal_Distribution</grouptype><memberjoinrestriction>Closed</memberjoinrestriction>
        <hidefromaddresslists>False</hidefromaddresslists><emailaddresses><emailaddress>SMTP:heroes@x.example</emailaddress></emailaddresses>
        <owners><owners><displayname>Robin</displayname></owners></owners>
        <members><member><displayname>Robin</displayname><selected>true</selected></member></members></distributiongroup>
      <distributiongroup><displayname>Enemies</displayname></distributiongroup>
      <distributiongroup><displayname>Managers</displayname><email>managers@x.example</email></distributiongroup>
    </distributiongroups></service></customer>`,
      ),
      asA(),
    );
    expect(set.status).toBe(200);
    requestIdOf(set);

    const all = await api.post(
      request('GET', `<customer><fullname>${fullname}</fullname><service><name>HE</name><distributiongroups /></service></customer>`),
      asA(),
    );
    const groups = [all.xml.response.customer[0].service[0].distributiongroups.distributiongroup].flat();
    expect(groups.map((g: any) => g.displayname)).toEqual(['Enemies', 'Heroes', 'Managers']);
    const heroes = groups.find((g: any) => g.displayname === 'Heroes');
    expect(heroes.path).toBe(
      `CN=Heroes,OU=Distribution Groups,OU=${fullname}(${code}),OU=Customers,DC=${t.provider.primaryDomain.split('.').join(',DC=')}`,
    );
    expect(heroes.members).toBeUndefined();

    const filtered = await api.post(
      request(
        'GET',
        `<customer><fullname>${fullname}</fullname><service><name>HE</name><distributiongroups>
      <displaynamefilter>M</displaynamefilter><emailfilter>M</emailfilter><pageindex>1</pageindex><pagesize>1000</pagesize></distributiongroups></service></customer>`,
      ),
      asA(),
    );
    expect(
      [filtered.xml.response.customer[0].service[0].distributiongroups.distributiongroup].flat().map((g: any) => g.displayname),
    ).toEqual(['Managers']);

    const members = await api.post(
      request(
        'GET',
        `<customer><name>${code}</name><service><name>HE</name><distributiongroups><distributiongroup>
      <members /><sendrestrictionacceptedmembers /><sendrestrictionrejectedmembers /><sendasmembers /></distributiongroup></distributiongroups></service></customer>`,
      ),
      asA(),
    );
    const h = [members.xml.response.customer[0].service[0].distributiongroups.distributiongroup]
      .flat()
      .find((g: any) => g.displayname === 'Heroes');
    expect([h.members.member].flat().map((m: any) => m.displayname)).toEqual(['Robin']);
    expect(h).toHaveProperty('sendasmembers');
    expect(h.owners.owners.displayname).toBe('Robin');
  });

  it("user-level SET adds by path and removes by name; user-level GET lists the user's groups", async () => {
    const path = `CN=Heroes,OU=Distribution Groups,OU=${fullname}(${code}),OU=Customers,DC=${t.provider.primaryDomain.split('.').join(',DC=')}`;
    await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><user><name>Batman</name><service><name>HE</name><distributiongroups>
      <distributiongroup><displayname>Enemies</displayname><selected>true</selected></distributiongroup></distributiongroups></service></user></customer>`,
      ),
      asA(),
    );
    const r = await api.post(
      request(
        'SET',
        `<customer><fullname>${fullname}</fullname><user><name>Batman_${code}</name><service><name>HE</name><distributiongroups>
      <distributiongroup><path>${path}</path><selected>true</selected></distributiongroup>
      <distributiongroup><displayname>Enemies</displayname><selected>false</selected></distributiongroup></distributiongroups></service></user></customer>`,
      ),
      asA(),
    );
    expect(errorOf(r)).toBeUndefined();
    const get = await api.post(
      request(
        'GET',
        `<customer><fullname>${fullname}</fullname><user><name>Batman_${code}</name><service><name>HE</name><distributiongroups /></service></user></customer>`,
      ),
      asA(),
    );
    const groups = [get.xml.response.customer[0].user[0].service[0].distributiongroups.distributiongroup].flat();
    expect(groups.map((g: any) => g.displayname)).toEqual(['Heroes']);
  });

  it('sync probe: reports whether remote members exist and are members', async () => {
    await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>HE</name><distributiongroups><distributiongroup><displayname>Heroes</displayname>
      <syncobjectid>S-1-5-21-1816066181-3380177551-1806815814-1235</syncobjectid></distributiongroup></distributiongroups></service></customer>`,
      ),
      asA(),
    );
    const r = await api.post(
      request(
        'GET',
        `<customer><name>${code}</name><service><name>HE</name><distributiongroups><distributiongroup>
      <syncobjectid>S-1-5-21-1816066181-3380177551-1806815814-1235</syncobjectid>
      <members><member><syncobjectid>B5EF275A-D953-4FBC-9E89-B72AC0470278</syncobjectid></member><member><displayname>Robin</displayname></member></members>
      <sendrestrictionacceptedmembers /><sendrestrictionrejectedmembers /><sendasmembers /></distributiongroup></distributiongroups></service></customer>`,
      ),
      asA(),
    );
    const g = r.xml.response.customer[0].service[0].distributiongroups.distributiongroup;
    expect(g.displayname).toBe('Heroes');
    expect(g.members.member.map((m: any) => [m.exists, m.selected])).toEqual([
      ['False', 'False'],
      ['True', 'True'],
    ]);
  });

  it('contacts: SET, GET with filters and paging', async () => {
    const set = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>HE</name><contacts>
      <contact><displayname>Alfred</displayname><email>alfred@manor.example</email><syncobjectid>C-1</syncobjectid><firstname>Alfred</firstname><city>Gotham</city></contact>
      <contact><displayname>Gordon</displayname><email>gordon@gcpd.example</email></contact></contacts></service></customer>`,
      ),
      asA(),
    );
    requestIdOf(set);
    const all = await api.post(
      request('GET', `<customer><name>${code}</name><service><name>HE</name><contacts /></service></customer>`),
      asA(),
    );
    const contacts = [all.xml.response.customer[0].service[0].contacts.contact].flat();
    expect(contacts.map((c: any) => c.displayname)).toEqual(['Alfred', 'Gordon']);
    expect(contacts[0]).toMatchObject({ email: 'alfred@manor.example', firstname: 'Alfred', city: 'Gotham', syncobjectid: 'C-1' });
    const paged = await api.post(
      request(
        'GET',
        `<customer><name>${code}</name><service><name>HE</name><contacts><displaynamefilter></displaynamefilter><syncfilter>C-1</syncfilter><pageindex>1</pageindex><pagesize>10</pagesize></contacts></service></customer>`,
      ),
      asA(),
    );
    expect(paged.xml.response.customer[0].service[0].contacts.contact.displayname).toBe('Alfred');
  });

  it("a sibling reseller cannot read or change this customer's groups (code 34)", async () => {
    const r = await api.post(
      request('GET', `<customer><name>${code}</name><service><name>HE</name><distributiongroups /></service></customer>`),
      as(tree.resellerB),
    );
    expect(errorOf(r)?.id).toBe(34);
    const w = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>HE</name><distributiongroups><distributiongroup><displayname>X</displayname></distributiongroup></distributiongroups></service></customer>`,
      ),
      as(tree.resellerB),
    );
    expect(errorOf(w)?.id).toBe(34);
  });
});

describe('workflow approval (seed 002)', () => {
  let code: string;

  beforeAll(async () => {
    code = tree.direct.customer.name;
    await inTransaction(t.db, async (tx) => {
      await createUser(tx, tree.direct.admin, tree.direct.customer, { name: 'jocelynb', displayName: 'Jocelyn Brittain', roles: ['User'] });
      await createUser(tx, tree.direct.admin, tree.direct.customer, { name: 'RogerA', displayName: 'Roger Alborough', roles: ['User'] });
    });
    await t.db.updateTable('users').set({ status: 'Provisioned' }).where('customer_id', '=', tree.direct.customer.id).execute();
  });

  it('GET <approvalproviders/> lists the enabled providers', async () => {
    const r = await api.post(request('GET', `<customer><name>${code}</name><approvalproviders /></customer>`));
    const providers = [r.xml.response.customer[0].approvalproviders.approvalprovider].flat();
    expect(providers.map((p: any) => p.name)).toEqual(['Workflow Managers', 'Workflow Groups']);
  });

  it('SET Workflow Managers and Workflow Groups; GET returns them in SET form; a group can be deleted', async () => {
    const managers = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><approvalproviders><approvalprovider><name>Workflow Managers</name>
      <configuration><managers>5</managers><timeoutdays>4</timeoutdays><reminderdays>1</reminderdays></configuration>
      <subscriptions><users><subscription><name>Provision</name><access>None</access></subscription><subscription><name>Deprovision</name><access>Object</access></subscription></users>
      <userservices><service><label>Hosted Exchange</label><subscription><name>Provision</name><access>None</access></subscription><subscription><name>Deprovision</name><access>None</access></subscription></service></userservices>
      </subscriptions></approvalprovider></approvalproviders></customer>`,
      ),
    );
    expect(errorOf(managers)).toBeUndefined();
    const groups = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><approvalproviders><approvalprovider><name>Workflow Groups</name>
      <description>Allow groups of people to subscribe to events that require approval</description><groups>
      <group><name>Customer Service Approval</name><description>This group will approve all customer services</description>
        <configuration><memberstoapprove>1</memberstoapprove><timeoutdays>5</timeoutdays><reminderdays>2</reminderdays></configuration>
        <members><member><displayname>Jocelyn Brittain</displayname><username>jocelynb_${code}</username></member><member><displayname>Roger Alborough</displayname><username>RogerA_${code}</username></member></members>
        <subscriptions><services><service><label>All</label><subscription><name>Provision</name><access>Object</access></subscription><subscription><name>Deprovision</name><access>Object</access></subscription></service></services></subscriptions>
      </group><group><name>Group A</name></group></groups></approvalprovider></approvalproviders></customer>`,
      ),
    );
    expect(errorOf(groups)).toBeUndefined();
    const del = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><approvalproviders><approvalprovider><name>Workflow Groups</name><groups><group><name>Group A</name><action>delete</action></group></groups></approvalprovider></approvalproviders></customer>`,
      ),
    );
    expect(errorOf(del)).toBeUndefined();

    const get = await api.post(request('GET', `<customer><name>${code}</name><approvalproviders /></customer>`));
    const [wm, wg] = [get.xml.response.customer[0].approvalproviders.approvalprovider].flat();
    expect(wm.configuration).toEqual({ managers: '5', timeoutdays: '4', reminderdays: '1' });
    expect(wm.subscriptions.userservices.service[0].label).toBe('Hosted Exchange');
    const group = wg.groups.group;
    expect(group.name).toBe('Customer Service Approval');
    expect(group.members.member.map((m: any) => m.username)).toEqual([`jocelynb_${code}`, `RogerA_${code}`]);
    expect(group.subscriptions.services.service[0].label).toBe('All');
  });

  it('a customer service provision waits for approval (Pending, approvalpending True) and runs once accepted', async () => {
    const set = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><service><name>FSS</name><properties><property><name>FileShareServer</name><value>F1</value></property></properties></service></customer>`,
      ),
    );
    const requestId = requestIdOf(set);
    const held = await t.db.selectFrom('provisioning_requests').select('status').where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(held.status).toBe('Pending');
    const svc = await api.post(request('GET', `<customer><name>${code}</name><service><name>FSS</name></service></customer>`));
    expect(svc.xml.response.customer[0].service[0]).toMatchObject({ status: 'Pending', approvalpending: 'True' });

    const list = await api.post(request('GET', `<customer><name>${code}</name><approvalresponses /></customer>`));
    const ar = list.xml.response.customer[0].approvalresponses.approvalresponse;
    expect(ar.description).toBe('Provision Customer Service - File Sharing');
    expect(ar.status).toBe('Pending');
    expect(ar.requestdate).toMatch(/^\d{8}$/);
    expect(ar.customer[0]).toEqual({ name: code, fullname: tree.direct.customer.fullname });
    expect(ar.requestedbyuser.name).toMatch(/^admin/);
    const subs = [ar.subscription].flat();
    expect(subs.map((s: any) => s.user[0].name)).toEqual([`jocelynb_${code}`, `RogerA_${code}`]);

    const mine = await api.post(
      request('GET', `<customer><name>${code}</name><user><name>RogerA_${code}</name><approvalresponses /></user></customer>`),
    );
    const mineSubs = [mine.xml.response.customer[0].user[0].approvalresponses.approvalresponse.subscription].flat();
    expect(mineSubs.map((s: any) => s.user[0].name)).toEqual([`RogerA_${code}`]);

    const info = await api.post(request('GET', `<approval><id>${subs[1].id}</id></approval>`));
    expect(Number(info.xml.response.approval.request.id)).toBe(requestId);

    const accept = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><user><name>RogerA_${code}</name><approvalresponses><approvalresponse><subscription>
      <id>${subs[1].id}</id><status>Accepted</status><reason>Mickey said it's okay - from the API :)</reason></subscription></approvalresponse></approvalresponses></user></customer>`,
      ),
    );
    expect(errorOf(accept)).toBeUndefined();
    expect(requestIdOf(accept)).toBe(requestId);
    const released = await t.db.selectFrom('provisioning_requests').select('status').where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(released.status).not.toBe('Pending');
    const after = await api.post(request('GET', `<customer><name>${code}</name><service><name>FSS</name></service></customer>`));
    expect(after.xml.response.customer[0].service[0].approvalpending).toBe('False');

    const pending = await api.post(request('GET', `<customer><name>${code}</name><approvalresponses /></customer>`));
    expect(pending.xml.response.customer[0].approvalresponses).toBe('');
    const all = await api.post(request('GET', `<customer><name>${code}</name><approvalresponses filter="all" /></customer>`));
    expect(all.xml.response.customer[0].approvalresponses.approvalresponse.status).toBe('Accepted');
  });

  it('a rejection fails the held request; a sibling cannot see or answer approvals', async () => {
    const set = await api.post(request('SET', `<customer><name>${code}</name><service><name>MARCH</name></service></customer>`));
    const requestId = requestIdOf(set);
    const list = await api.post(request('GET', `<customer><name>${code}</name><approvalresponses /></customer>`));
    const sub = [list.xml.response.customer[0].approvalresponses.approvalresponse.subscription].flat()[0];
    expect(errorOf(await api.post(request('GET', `<approval><id>${sub.id}</id></approval>`), as(tree.resellerB)))?.id).toBe(18);
    const reject = await api.post(
      request(
        'SET',
        `<customer><name>${code}</name><approvalresponses><approvalresponse><subscription><id>${sub.id}</id><status>Rejected</status><reason>No</reason></subscription></approvalresponse></approvalresponses></customer>`,
      ),
    );
    expect(errorOf(reject)).toBeUndefined();
    expect(requestIdOf(reject)).toBe(requestId);
    const failed = await t.db
      .selectFrom('provisioning_requests')
      .select(['status', 'error'])
      .where('id', '=', requestId)
      .executeTakeFirstOrThrow();
    expect(failed.status).toBe('Failed');
  });

  it("timeoutdays: an approval nobody answers is rejected after the group's 5 days and its request fails; reminderdays logs a reminder every 2 days", async () => {
    const set = await api.post(request('SET', `<customer><name>${code}</name><service><name>OCS</name></service></customer>`));
    const requestId = requestIdOf(set);
    const approval = await t.db
      .selectFrom('approval_requests')
      .select('requested_at')
      .where('provisioning_request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    const at = (days: number) => new Date(approval.requested_at.getTime() + days * 24 * 60 * 60 * 1000);
    const reminders = async () => {
      const r = await api.post(request('GET', `<request><id>${requestId}</id><log/></request>`));
      return [r.xml.response.request.log?.entry ?? []]
        .flat()
        .map((e: any) => e.message)
        .filter((m: string) => m.startsWith('Reminder'));
    };

    await expireApprovals(t.db, at(1.9));
    expect(await reminders()).toEqual([]);
    await expireApprovals(t.db, at(2.1));
    await expireApprovals(t.db, at(2.2));
    expect(await reminders()).toEqual([
      `Reminder: approval 'Provision Customer Service - Office Communication Server 2007' is still waiting for jocelynb_${code}, RogerA_${code}.`,
    ]);
    await expireApprovals(t.db, at(4.2));
    expect(await reminders()).toHaveLength(2);
    const held = await api.post(request('GET', `<request><id>${requestId}</id></request>`));
    expect(held.xml.response.request.status).toBe('Pending');

    await expireApprovals(t.db, at(5.01));
    const failed = await api.post(request('GET', `<request><id>${requestId}</id><log/></request>`));
    expect(failed.xml.response.request.status).toBe('Failed');
    expect([failed.xml.response.request.log.entry].flat().map((e: any) => e.message)).toContain(
      "Approval 'Provision Customer Service - Office Communication Server 2007' timed out: not answered within 5 days. The request is rejected.",
    );
    const service = (await api.post(request('GET', `<customer><name>${code}</name><service><name>OCS</name></service></customer>`))).xml
      .response.customer[0].service[0];
    expect(service).toMatchObject({ status: 'Failed', approvalpending: 'False' });
    const all = await api.post(request('GET', `<customer><name>${code}</name><approvalresponses filter="all" /></customer>`));
    const timedOut = [all.xml.response.customer[0].approvalresponses.approvalresponse]
      .flat()
      .find((a: any) => a.description.includes('Office Communication'));
    expect(timedOut.status).toBe('Rejected');
    expect([timedOut.subscription].flat().map((s: any) => [s.status, s.reason])).toEqual([
      ['Rejected', 'Timed out: not answered within 5 days.'],
      ['Rejected', 'Timed out: not answered within 5 days.'],
    ]);
    // Swept once: a later sweep neither logs nor changes it again.
    await expireApprovals(t.db, at(9));
    expect(await reminders()).toHaveLength(2);
  });

  it('GET of a customer, a user and a user service shows <approvalpending> after <status>; a held user de-provision shows True', async () => {
    const set = await api.post(
      request('SET', `<customer><name>${code}</name><user><name>jocelynb</name><status>NotProvisioned</status></user></customer>`),
    );
    const held = await t.db
      .selectFrom('provisioning_requests')
      .select(['entity', 'status'])
      .where('id', '=', requestIdOf(set))
      .executeTakeFirstOrThrow();
    expect(held).toEqual({ entity: 'user', status: 'Pending' });
    const user = (await api.post(request('GET', `<customer><name>${code}</name><user><name>jocelynb</name></user></customer>`))).xml
      .response.customer[0].user[0];
    const keys = Object.keys(user);
    expect(keys.indexOf('approvalpending')).toBe(keys.indexOf('status') + 1);
    expect(user).toMatchObject({ status: 'Pending', approvalpending: 'True' });
    const customer = (await api.post(request('GET', `<customer><name>${code}</name></customer>`))).xml.response.customer[0];
    expect(Object.keys(customer).slice(-3)).toEqual(['status', 'approvalpending', 'parent']);
    expect(customer.approvalpending).toBe('False');
    const service = (
      await api.post(
        request('GET', `<customer><name>${code}</name><user><name>RogerA</name><service><name>FSS</name></service></user></customer>`),
      )
    ).xml.response.customer[0].user[0].service[0];
    expect(Object.keys(service).slice(0, 4)).toEqual(['name', 'fullname', 'status', 'approvalpending']);
    expect(service.approvalpending).toBe('False');
  });

  it("timeoutdays of Workflow Managers: the held user de-provision is rejected after the customer's 4 days", async () => {
    const user = await t.db.selectFrom('users').select('id').where('name', '=', `jocelynb_${code}`).executeTakeFirstOrThrow();
    const held = await t.db
      .selectFrom('approval_requests')
      .innerJoin('provisioning_requests', 'provisioning_requests.id', 'approval_requests.provisioning_request_id')
      .select(['approval_requests.requested_at', 'provisioning_requests.id'])
      .where('provisioning_requests.entity', '=', 'user')
      .where('provisioning_requests.entity_id', '=', user.id)
      .where('approval_requests.status', '=', 'Pending')
      .executeTakeFirstOrThrow();
    const at = (days: number) => new Date(held.requested_at.getTime() + days * 24 * 60 * 60 * 1000);
    await expireApprovals(t.db, at(3.99));
    expect((await api.post(request('GET', `<request><id>${held.id}</id></request>`))).xml.response.request.status).toBe('Pending');
    await expireApprovals(t.db, at(4.01));
    expect((await api.post(request('GET', `<request><id>${held.id}</id></request>`))).xml.response.request.status).toBe('Failed');
    const after = (await api.post(request('GET', `<customer><name>${code}</name><user><name>jocelynb</name></user></customer>`))).xml
      .response.customer[0].user[0];
    expect(after.approvalpending).toBe('False');
  });
});
