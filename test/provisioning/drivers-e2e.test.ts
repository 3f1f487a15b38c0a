import http from 'node:http';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/database.js';
import { provisionCustomerService, provisionUserService } from '../../src/services/service-assignment.service.js';
import { deprovisionCustomer } from '../../src/provisioning/customer-lifecycle.js';
import { setServiceDriver } from '../../src/provisioning/driver-config.js';
import { LdapLayout } from '../../src/provisioning/drivers/ldap.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/provisioning/drivers/webhook.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import { describeWithSlapd, startSlapd, type SlapdInstance } from '../ldap/slapd.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, PASSWORD } from '../support/fixtures.js';
import { settle, startEngine } from './support.js';

let t: TestContext;
let engine: ProvisioningEngine;

beforeAll(async () => {
  t = await openTestContext();
  engine = await startEngine(t.ctx);
});
afterAll(async () => {
  await engine?.stop();
  await t?.close();
});

async function settleCustomer(customerId: number) {
  const all = await t.db.selectFrom('provisioning_requests').select('id').where('customer_id', '=', customerId).execute();
  return settle(
    t.db,
    all.map((r) => r.id),
  );
}

describeWithSlapd('LDAP end to end through the engine', () => {
  let ldap: SlapdInstance;
  let admin: Client;
  const baseDN = () => `ou=customers,${ldap.suffix}`;

  beforeAll(async () => {
    ldap = await startSlapd();
    admin = new Client({ url: ldap.url, timeout: 5000 });
    await admin.bind(ldap.bindDN, ldap.bindPassword);
    await admin.add(baseDN(), { objectClass: ['organizationalUnit'], ou: 'customers' });
  });
  afterAll(async () => {
    await admin?.unbind().catch(() => undefined);
    await ldap?.stop();
  });

  async function entry(dn: string): Promise<Entry | null> {
    const { searchEntries } = await admin.search(dn, { scope: 'base', attributes: ['*'] }).catch(() => ({ searchEntries: [] as Entry[] }));
    return searchEntries[0] ?? null;
  }

  async function canBind(dn: string, password: string): Promise<boolean> {
    const client = new Client({ url: ldap.url, timeout: 5000 });
    try {
      await client.bind(dn, password);
      return true;
    } catch (e) {
      if (e instanceof InvalidCredentialsError) return false;
      throw e;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  it('creates the customer OU, the user with its password and the service group, then removes them on de-provision', async () => {
    const stored = await inTransaction(t.db, (tx) =>
      setServiceDriver(tx, t.admin, t.ctx.secrets, { name: 'Citrix' }, 'ldap', {
        url: ldap.url,
        bindDN: ldap.bindDN,
        bindPassword: ldap.bindPassword,
        baseDN: baseDN(),
      }),
    );
    expect(stored.config.bindPassword).toBe('********');
    const raw = await t.db.selectFrom('services').select('driver_config').where('code', '=', 'Citrix').executeTakeFirstOrThrow();
    expect(String(raw.driver_config.bindPassword)).toMatch(/^v1:/);

    const tenant = await makeTenant(t.db, t.admin, { fullname: 'Ldap Corp' });
    await inTransaction(t.db, async (tx) => {
      await provisionCustomerService(tx, t.admin, tenant.customer, { service: { name: 'Citrix' } });
      await provisionUserService(tx, t.admin, tenant.customer, tenant.adminUser, { service: { name: 'Citrix' } });
    });
    const rows = await settleCustomer(tenant.customer.id);
    expect(rows.filter((r) => r.status !== 'Provisioned')).toEqual([]);

    const layout = new LdapLayout(baseDN());
    const where = { name: tenant.customer.name, ancestry: [t.provider.name] };
    const userDN = layout.userDN(where, tenant.adminUser.name);
    expect(await entry(layout.customerDN(where))).toMatchObject({ ou: tenant.customer.name, description: 'Ldap Corp' });
    expect(await entry(userDN)).toMatchObject({ uid: tenant.adminUser.name, mail: tenant.adminUser.upn });
    expect(await canBind(userDN, PASSWORD)).toBe(true);
    const group = await entry(layout.groupDN(where, 'Citrix'));
    expect([group?.member].flat().map(String)).toContain(userDN);
    // The plaintext password was only in flight: the finished request no longer holds it.
    expect(rows.every((r) => r.secret === null)).toBe(true);

    const { requestId } = await inTransaction(t.db, (tx) => deprovisionCustomer(tx, t.admin, { id: tenant.customer.id }));
    const tree = await t.db.selectFrom('provisioning_requests').select('id').where('root_id', '=', requestId!).execute();
    const done = await settle(
      t.db,
      tree.map((r) => r.id),
    );
    expect(done.filter((r) => r.status !== 'NotProvisioned')).toEqual([]);
    expect(await entry(layout.customerDN(where))).toBeNull();
    expect(await entry(userDN)).toBeNull();
    await t.db.updateTable('services').set({ driver: 'simulated', driver_config: '{}' }).execute();
  });
});

describe('webhook end to end through the engine', () => {
  it('posts signed JSON that the receiver verifies; a 4xx fails the request at once', async () => {
    const secret = 'hook-secret';
    const received: { valid: boolean; tampered: boolean; body: Record<string, unknown> }[] = [];
    let answer = 200;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const header = req.headers[SIGNATURE_HEADER.toLowerCase()] as string;
        received.push({
          valid: verifyWebhookSignature(secret, header, body, 300),
          tampered: verifyWebhookSignature(secret, header, body + ' ', 300),
          body: JSON.parse(body),
        });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/provision`;
      await inTransaction(t.db, (tx) => setServiceDriver(tx, t.admin, t.ctx.secrets, { name: 'BlackBerry5' }, 'webhook', { url, secret }));
      const tenant = await makeTenant(t.db, t.admin, { fullname: 'Hook Corp' });
      await settleCustomer(tenant.customer.id);
      const { requestId } = await inTransaction(t.db, (tx) =>
        provisionCustomerService(tx, t.admin, tenant.customer, { service: { name: 'BlackBerry5' } }),
      );
      const [ok] = await settle(t.db, [requestId!]);
      expect(ok!.status).toBe('Provisioned');
      const delivery = received.find((r) => r.body.requestId === requestId)!;
      expect(delivery).toMatchObject({
        valid: true,
        tampered: false,
        body: { entity: 'customer_service', action: 'provision', service: { code: 'BlackBerry5' } },
      });

      answer = 422;
      const failing = await inTransaction(t.db, (tx) =>
        provisionCustomerService(tx, t.admin, tenant.customer, { service: { name: 'BlackBerry5' }, properties: { note: 'x' } }),
      );
      const [failed] = await settle(t.db, [failing.requestId!]);
      expect(failed).toMatchObject({ status: 'Failed', attempts: 1 });
      expect(failed!.error).toMatch(/422/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await t.db.updateTable('services').set({ driver: 'simulated', driver_config: '{}' }).execute();
    }
  });
});
