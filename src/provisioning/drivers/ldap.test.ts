import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithSlapd, startSlapd, type SlapdInstance } from '../../../test/ldap/slapd.js';
import { TransientDriverError, type DriverTask } from './driver.js';
import { createLdapDriver, escapeRdnValue, LdapDriver, LdapLayout } from './ldap.js';
import { customer, recordingLog, task, user } from './test-fixtures.js';

let ldap: SlapdInstance;
let admin: Client;
let driver: LdapDriver;
let baseDN: string;
let layout: LdapLayout;

/** Log lines of writes; no-ops are logged as "already up to date". */
const WRITES = /^LDAP: (added|updated|deleted|members of .*: (added|removed))/;

/** Runs the task, then runs it again and checks the re-run wrote nothing (idempotency). */
async function runTwice(t: DriverTask): Promise<string[]> {
  const first = recordingLog();
  await driver.run(t, first);
  const second = recordingLog();
  await driver.run({ ...t, attempt: t.attempt + 1 }, second);
  expect(
    second.lines.filter((line) => WRITES.test(line.message)),
    `re-run of ${t.entity} ${t.action}`,
  ).toEqual([]);
  return first.lines.map((line) => line.message);
}

async function entry(dn: string): Promise<Entry | null> {
  const { searchEntries } = await admin.search(dn, { scope: 'base', attributes: ['*'] }).catch(() => ({ searchEntries: [] as Entry[] }));
  return searchEntries[0] ?? null;
}

async function members(groupDN: string): Promise<string[]> {
  const group = await entry(groupDN);
  const list = group?.member ?? [];
  return (Array.isArray(list) ? list : [list]).map(String).sort();
}

async function canBind(dn: string, password: string): Promise<boolean> {
  const client = new Client({ url: ldap.url, timeout: 5000 });
  try {
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

describeWithSlapd('ldap driver against slapd', () => {
  beforeAll(async () => {
    ldap = await startSlapd();
    admin = new Client({ url: ldap.url, timeout: 5000 });
    await admin.bind(ldap.bindDN, ldap.bindPassword);
    baseDN = `ou=customers,${ldap.suffix}`;
    await admin.add(baseDN, { objectClass: ['organizationalUnit'], ou: 'customers' });
    layout = new LdapLayout(baseDN);
    driver = createLdapDriver({ url: ldap.url, bindDN: ldap.bindDN, bindPassword: ldap.bindPassword, baseDN });
  });

  afterAll(async () => {
    await admin?.unbind().catch(() => undefined);
    await ldap?.stop();
  });

  it('provisions a customer OU nested under its resellers, creating missing parents', async () => {
    const bac = customer({ name: 'BAC', fullname: 'Bacchus Ltd', ancestry: ['SP', 'RES1'] });
    const log = await runTwice(task({ entity: 'customer', action: 'provision', customer: bac }));
    const dn = `ou=BAC,ou=RES1,ou=SP,${baseDN}`;
    expect(layout.customerDN(bac)).toBe(dn);
    expect(log).toContain(`LDAP: added ou=SP,${baseDN}`);
    expect(log).toContain(`LDAP: added ou=RES1,ou=SP,${baseDN}`);
    expect(await entry(dn)).toMatchObject({ ou: 'BAC', description: 'Bacchus Ltd' });

    await runTwice(task({ entity: 'customer', action: 'update', customer: { ...bac, fullname: 'Bacchus plc' } }));
    expect((await entry(dn))?.description).toBe('Bacchus plc');
  });

  it('provisions users whose password works, and updates their attributes', async () => {
    const c = customer({ name: 'USR', ancestry: ['SP'] });
    const u = user({ name: 'User1_USR', password: 'Corr3ct horse' });
    await runTwice(task({ entity: 'user', action: 'provision', customer: c, user: u }));
    const dn = layout.userDN(c, u.name);
    expect(dn).toBe(`uid=User1_USR,ou=USR,ou=SP,${baseDN}`);

    const created = await entry(dn);
    expect(created).toMatchObject({
      uid: 'User1_USR',
      cn: 'Ada Lovelace',
      sn: 'Lovelace',
      givenName: 'Ada',
      displayName: 'Ada Lovelace',
      mail: 'ada@bac.example',
    });
    expect(created?.objectClass).toContain('inetOrgPerson');
    expect(String(created?.userPassword)).toMatch(/^\{SSHA\}/);
    expect(await canBind(dn, 'Corr3ct horse')).toBe(true);
    expect(await canBind(dn, 'wrong')).toBe(false);

    const renamed = { ...u, email: null, displayName: 'Ada King', password: 'N3w pass' };
    const log = await runTwice(task({ entity: 'user', action: 'update', customer: c, user: renamed }));
    expect(log).toContain(`LDAP: updated ${dn} (cn, displayName, mail, userPassword)`);
    expect(log.join('\n')).not.toContain('N3w pass');
    const updated = await entry(dn);
    expect(updated?.mail).toBeUndefined();
    expect(updated?.displayName).toBe('Ada King');
    expect(await canBind(dn, 'N3w pass')).toBe(true);
    expect(await canBind(dn, 'Corr3ct horse')).toBe(false);
  });

  it('disables a user so binds fail, and re-enables with the old password', async () => {
    const c = customer({ name: 'DIS', ancestry: [] });
    const u = user({ name: 'User1_DIS', password: 'pw-dis-1' });
    const dn = layout.userDN(c, u.name);
    await runTwice(task({ entity: 'user', action: 'provision', customer: c, user: u }));
    expect(await canBind(dn, 'pw-dis-1')).toBe(true);

    await runTwice(task({ entity: 'user', action: 'update', customer: c, user: { ...u, enabled: false, password: undefined } }));
    expect(await canBind(dn, 'pw-dis-1')).toBe(false);
    const disabled = await entry(dn);
    expect(disabled?.description).toBe('disabled');
    expect(await canBind(dn, String(disabled?.userPassword))).toBe(false);

    await runTwice(task({ entity: 'user', action: 'update', customer: c, user: { ...u, password: undefined } }));
    expect(await canBind(dn, 'pw-dis-1')).toBe(true);
    expect((await entry(dn))?.description).toBeUndefined();
  });

  it('keeps group membership equal to the members list, with a placeholder when empty', async () => {
    const c = customer({ name: 'GRP', ancestry: ['SP'] });
    const service = { code: 'MAIL', fullname: 'Hosted mail', planName: null, userPlanName: null, properties: {} };
    for (const name of ['u1', 'u2', 'u3']) {
      await driver.run(task({ entity: 'user', action: 'provision', customer: c, user: user({ name }) }), recordingLog());
    }
    const group = layout.groupDN(c, 'MAIL');
    const dnOf = (name: string) => layout.userDN(c, name);
    const serviceTask = (members: string[]) => task({ entity: 'customer_service', action: 'provision', customer: c, service, members });

    await runTwice(serviceTask(['u1', 'u2']));
    expect(await entry(group)).toMatchObject({ cn: 'MAIL', description: 'Hosted mail' });
    expect(await members(group)).toEqual([dnOf('u1'), dnOf('u2')]);
    const { searchEntries } = await admin.search(baseDN, { filter: `(member=${dnOf('u1')})`, attributes: ['1.1'] });
    expect(searchEntries.map((e) => e.dn)).toEqual([group]);

    await runTwice({ ...serviceTask(['u2', 'u3']), action: 'update' });
    expect(await members(group)).toEqual([dnOf('u2'), dnOf('u3')]);

    await runTwice({ ...serviceTask([]), action: 'update' });
    expect(await members(group)).toEqual([layout.customerDN(c)]);

    await runTwice(task({ entity: 'user_service', action: 'provision', customer: c, service, user: user({ name: 'u1' }) }));
    expect(await members(group)).toEqual([dnOf('u1')]);
    await runTwice(task({ entity: 'user_service', action: 'deprovision', customer: c, service, user: user({ name: 'u1' }) }));
    expect(await members(group)).toEqual([layout.customerDN(c)]);

    // Workers may run several user services of one group at the same time.
    const names = ['u1', 'u2', 'u3'];
    await Promise.all(
      names.map((name) =>
        driver.run(task({ entity: 'user_service', action: 'provision', customer: c, service, user: user({ name }) }), recordingLog()),
      ),
    );
    expect(await members(group)).toEqual(names.map(dnOf).sort());

    await runTwice({ ...serviceTask(['u1']), action: 'deprovision' });
    expect(await entry(group)).toBeNull();
  });

  it('creates the group on a user service when the customer service has not run yet', async () => {
    const c = customer({ name: 'EARLY', ancestry: ['SP', 'RES2'] });
    const service = { code: 'VPN', fullname: 'VPN', planName: null, userPlanName: null, properties: {} };
    await runTwice(task({ entity: 'user_service', action: 'provision', customer: c, service, user: user({ name: 'e1' }) }));
    expect(await members(layout.groupDN(c, 'VPN'))).toEqual([layout.userDN(c, 'e1')]);
  });

  it('deprovisions a user: out of every group and locked; delete removes the entry', async () => {
    const c = customer({ name: 'DEP', ancestry: [] });
    const service = (code: string) => ({ code, fullname: code, planName: null, userPlanName: null, properties: {} });
    const u = user({ name: 'd1', password: 'pw-d1' });
    const dn = layout.userDN(c, u.name);
    await driver.run(task({ entity: 'user', action: 'provision', customer: c, user: u }), recordingLog());
    await driver.run(task({ entity: 'user', action: 'provision', customer: c, user: user({ name: 'd2' }) }), recordingLog());
    for (const code of ['A', 'B']) {
      await driver.run(
        task({ entity: 'customer_service', action: 'provision', customer: c, service: service(code), members: ['d1', 'd2'] }),
        recordingLog(),
      );
    }

    await runTwice(task({ entity: 'user', action: 'deprovision', customer: c, user: { ...u, password: undefined } }));
    expect(await members(layout.groupDN(c, 'A'))).toEqual([layout.userDN(c, 'd2')]);
    expect(await members(layout.groupDN(c, 'B'))).toEqual([layout.userDN(c, 'd2')]);
    expect(await entry(dn)).not.toBeNull();
    expect(await canBind(dn, 'pw-d1')).toBe(false);

    await runTwice(task({ entity: 'user', action: 'delete', customer: c, user: u }));
    expect(await entry(dn)).toBeNull();
  });

  it('deprovisions a customer but keeps OUs of its sub-customers; delete removes the subtree', async () => {
    const reseller = customer({ name: 'RES9', ancestry: ['SP'] });
    const child = customer({ name: 'KID', ancestry: ['SP', 'RES9'] });
    const service = { code: 'S', fullname: 'S', planName: null, userPlanName: null, properties: {} };
    for (const c of [reseller, child]) {
      await driver.run(task({ entity: 'customer', action: 'provision', customer: c }), recordingLog());
      await driver.run(task({ entity: 'user', action: 'provision', customer: c, user: user({ name: `x_${c.name}` }) }), recordingLog());
      await driver.run(
        task({ entity: 'customer_service', action: 'provision', customer: c, service, members: [`x_${c.name}`] }),
        recordingLog(),
      );
    }

    await runTwice(task({ entity: 'customer', action: 'deprovision', customer: reseller }));
    expect(await entry(layout.customerDN(reseller))).not.toBeNull();
    expect(await entry(layout.userDN(reseller, 'x_RES9'))).toBeNull();
    expect(await entry(layout.groupDN(reseller, 'S'))).toBeNull();
    expect(await entry(layout.userDN(child, 'x_KID'))).not.toBeNull();

    await runTwice(task({ entity: 'customer', action: 'deprovision', customer: child }));
    expect(await entry(layout.customerDN(child))).toBeNull();

    await driver.run(task({ entity: 'user', action: 'provision', customer: child, user: user({ name: 'again' }) }), recordingLog());
    await runTwice(task({ entity: 'customer', action: 'delete', customer: reseller }));
    const { searchEntries } = await admin.search(`ou=SP,${baseDN}`, { filter: '(ou=RES9)', attributes: ['1.1'] });
    expect(searchEntries).toEqual([]);
    expect(await entry(layout.userDN(child, 'again'))).toBeNull();
  });

  it('names users by cn when configured', async () => {
    const cnDriver = createLdapDriver({
      url: ldap.url,
      bindDN: ldap.bindDN,
      bindPassword: ldap.bindPassword,
      baseDN,
      usersAttribute: 'cn',
    });
    const c = customer({ name: 'CN', ancestry: [] });
    await cnDriver.run(task({ entity: 'user', action: 'provision', customer: c, user: user({ name: 'c1' }) }), recordingLog());
    expect(await entry(`cn=c1,ou=CN,${baseDN}`)).toMatchObject({ uid: 'c1', cn: 'c1', displayName: 'Ada Lovelace' });
  });

  it('treats connection faults as transient and a bad bind as permanent', async () => {
    const down = createLdapDriver({ url: 'ldap://127.0.0.1:1', bindDN: ldap.bindDN, bindPassword: 'x', baseDN });
    await expect(down.run(task(), recordingLog())).rejects.toBeInstanceOf(TransientDriverError);

    const wrong = createLdapDriver({ url: ldap.url, bindDN: ldap.bindDN, bindPassword: 'wrong', baseDN });
    const run = wrong.run(task(), recordingLog());
    await expect(run).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});

describe('ldap driver config', () => {
  it('escapes RDN values and validates config', () => {
    expect(escapeRdnValue('A,B+C')).toBe('A\\,B\\+C');
    expect(escapeRdnValue('#x ')).toBe('\\#x\\ ');
    expect(() => createLdapDriver({ url: 'http://x', bindDN: 'a', bindPassword: 'b', baseDN: 'c' })).toThrow(
      'ldap driver config: "url" must use ldap:// or ldaps://',
    );
    expect(() => createLdapDriver({ url: 'ldap://x', bindDN: 'a', baseDN: 'c' })).toThrow('ldap driver config: "bindPassword" is required');
    expect(() => createLdapDriver({ url: 'ldap://x', bindDN: 'a', bindPassword: 'b', baseDN: 'c', usersAttribute: 'mail' })).toThrow(
      'ldap driver config: "usersAttribute" must be one of uid, cn',
    );
  });
});
