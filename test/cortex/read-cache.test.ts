import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { makeTenant, type Tenant } from '../support/fixtures.js';
import { startCortex, request, type CortexClient } from './support.js';
import { CortexReadCache } from '../../src/api/cortex/read-cache.js';
import { systemCaller } from '../../src/tenancy/caller.js';
import type { CortexRequest } from '../../src/api/cortex/xml.js';

let t: TestContext;
let api: CortexClient;
let acme: Tenant;

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
  acme = await makeTenant(t.db, t.admin, { fullname: 'Cached Customer' });
});
afterAll(async () => {
  await api.close();
  await t.close();
});

const getStatus = async () =>
  (await api.post(request('GET', `<customer><name>${acme.customer.name}</name></customer>`))).xml.response.customer[0].status;

describe('FIND/GET answers are never stale', () => {
  it('shows a status the provisioning engine wrote after the same GET was answered', async () => {
    await t.db.updateTable('customers').set({ status: 'Requested' }).where('id', '=', acme.customer.id).execute();
    expect(await getStatus()).toBe('Requested');
    expect(await getStatus()).toBe('Requested');
    await t.db.updateTable('customers').set({ status: 'Provisioned' }).where('id', '=', acme.customer.id).execute();
    expect(await getStatus()).toBe('Provisioned');
  });

  it('answers each caller from its own reach, even for the same document', async () => {
    const find = request('FIND', '<customer/>');
    const asProvider = await api.post(find);
    const asCustomer = await api.post(find, { user: acme.adminUser.name, password: 'Passw0rd!23' });
    expect(asProvider.xml.response.customer.length).toBeGreaterThan(1);
    expect(asCustomer.xml.response.customer.map((c: { name: string }) => c.name)).toEqual([acme.customer.name]);
  });
});

describe('CortexReadCache', () => {
  const caller = { ...systemCaller({ id: 1, path: '/1/' }), userId: 1 };
  const get: CortexRequest = { action: 'GET', entities: [{ tag: 'customer' }] } as unknown as CortexRequest;

  it('drops an answer computed while a write committed', () => {
    let clock = 5;
    const cache = new CortexReadCache(() => clock);
    const at = cache.now();
    clock++; // a write lands while the answer is being computed
    cache.store(caller, 'doc', get, at, '<old/>');
    expect(cache.lookup(caller, 'doc')).toBeUndefined();
    cache.store(caller, 'doc', get, cache.now(), '<new/>');
    expect(cache.lookup(caller, 'doc')).toBe('<new/>');
  });

  it('never keeps SET answers or reports', () => {
    const cache = new CortexReadCache(() => 1);
    cache.store(caller, 'set', { action: 'SET', entities: [] } as unknown as CortexRequest, 1, '<set/>');
    cache.store(caller, 'report', { action: 'GET', entities: [{ tag: 'report' }] } as unknown as CortexRequest, 1, '<report/>');
    expect(cache.lookup(caller, 'set')).toBeUndefined();
    expect(cache.lookup(caller, 'report')).toBeUndefined();
  });
});
