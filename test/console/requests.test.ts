import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { TestContext } from '../support/test-db.js';
import { consoleTestApp, type ConsoleTestApp } from '../support/console-app.js';
import type { ResellerTree } from '../support/fixtures.js';
import { settle, startEngine } from '../provisioning/support.js';
import type { ProvisioningEngine } from '../../src/provisioning/engine.js';
import type { ConsoleClient } from './support.js';
import { consoleGate } from '../../src/api/console/console-auth.js';
import { REPLAY_LIMIT } from '../../src/provisioning/request-feed.js';

let setup: ConsoleTestApp;
let t: TestContext;
let app: FastifyInstance;
let origin: string;
let engine: ProvisioningEngine;
let tree: ResellerTree;
let provider: ConsoleClient;
let customerA: ConsoleClient;

beforeAll(async () => {
  setup = await consoleTestApp();
  ({ t, tree, app } = setup);
  origin = await app.listen({ port: 0, host: '127.0.0.1' });
  engine = await startEngine(t.ctx);
  provider = await setup.signInAdmin();
  customerA = await setup.signIn(tree.customerA.adminUser.name);
});
afterAll(async () => {
  await engine?.stop();
  await setup?.close();
});

interface Event {
  eventId: number;
  id: number;
  status: string;
  customerId: number;
  entity: string;
}

/** An EventSource's view of the stream: collects `request` events until told to stop. */
function listen(
  cookie: string,
  lastEventId?: number | string,
): Promise<{ events: Event[]; ids: string[]; resets: number; until: (pred: (e: Event[]) => boolean) => Promise<void>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const events: Event[] = [];
    const ids: string[] = [];
    const stream = { events, ids, resets: 0, until, close: () => req.destroy() };
    const waiters: (() => void)[] = [];
    const headers: Record<string, string> = { cookie: `tenantry_session=${cookie}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const req = http.get(`${origin}/api/console/requests/events`, { headers }, (res) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: request') && data) {
            events.push(JSON.parse(data.slice(6)));
            ids.push(
              block
                .split('\n')
                .find((l) => l.startsWith('id: '))!
                .slice(4),
            );
          }
          if (block.includes('event: reset')) stream.resets++;
          if (block.startsWith(': connected')) resolve(stream);
        }
        waiters.splice(0).forEach((w) => w());
      });
    });
    req.on('error', reject);
    function until(pred: (e: Event[]) => boolean) {
      return new Promise<void>((done) => {
        const check = () => (pred(events) ? done() : waiters.push(check));
        check();
      });
    }
  });
}

describe('provisioning requests in the console API', () => {
  it("streams the status changes of the caller's requests as they happen, and none of a sibling's", async () => {
    const stream = await listen(customerA.cookie!);
    const providerStream = await listen(provider.cookie!);
    const created = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'live' })).json();
    const sibling = (await provider.post(`/api/console/customers/${tree.customerB.customer.id}/users`, { name: 'other' })).json();
    await stream.until((e) => e.some((x) => x.id === created.requestId && x.status === 'Provisioned'));
    await providerStream.until((e) => e.some((x) => x.id === sibling.requestId && x.status === 'Provisioned'));
    const mine = stream.events.filter((e) => e.id === created.requestId).map((e) => e.status);
    expect(mine[0]).toBe('Requested');
    expect(mine).toContain('InProgress');
    expect(mine.at(-1)).toBe('Provisioned');
    expect(stream.events.every((e) => e.customerId === tree.customerA.customer.id)).toBe(true);
    expect(stream.events.some((e) => e.id === sibling.requestId)).toBe(false);
    stream.close();
    providerStream.close();
  });

  it('resumes after Last-Event-ID with the changes the caller missed, in order, each once, none of a sibling', async () => {
    const first = await listen(customerA.cookie!);
    const before = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'before' })).json();
    await first.until((e) => e.some((x) => x.id === before.requestId && x.status === 'Provisioned'));
    first.close();
    // The stream's id is the event id, growing with every change.
    expect(first.ids).toEqual(first.events.map((e) => String(e.eventId)));
    expect([...first.ids].map(Number)).toEqual([...first.ids].map(Number).sort((a, b) => a - b));
    const lastSeen = first.events.at(-1)!.eventId;

    // While no stream is open: one change of the caller's, one of a sibling's, both run to the end.
    const missed = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'missed' })).json();
    const sibling = (await provider.post(`/api/console/customers/${tree.customerB.customer.id}/users`, { name: 'unseen' })).json();
    await settle(t.db, [missed.requestId, sibling.requestId]);

    const resumed = await listen(customerA.cookie!, lastSeen);
    await resumed.until((e) => e.some((x) => x.id === missed.requestId && x.status === 'Provisioned'));
    const statuses = resumed.events.filter((e) => e.id === missed.requestId).map((e) => e.status);
    expect(statuses[0]).toBe('Requested');
    expect(statuses.at(-1)).toBe('Provisioned');
    expect(resumed.events.some((e) => e.id === sibling.requestId)).toBe(false);
    expect(resumed.events.every((e) => e.eventId > lastSeen)).toBe(true);
    expect(new Set(resumed.ids).size).toBe(resumed.ids.length);
    resumed.close();

    // A stream opened without Last-Event-ID replays nothing; an id of the old format is ignored the same way.
    for (const [header, name] of [
      [undefined, 'freshone'],
      [`${lastSeen}:Provisioned`, 'freshtwo'],
    ] as const) {
      const fresh = await listen(customerA.cookie!, header);
      const marker = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name })).json();
      await fresh.until((e) => e.some((x) => x.id === marker.requestId && x.status === 'Provisioned'));
      expect(fresh.events.some((e) => e.id === missed.requestId)).toBe(false);
      fresh.close();
    }
  });

  it('tells a console that missed more than it would replay to re-read instead', async () => {
    const oldest = await t.db
      .selectFrom('request_status_events')
      .select((eb) => eb.fn.min('id').as('id'))
      .executeTakeFirstOrThrow();
    const total = await t.db
      .selectFrom('request_status_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    // The provider sees every change: from before the first one, all of them are missed.
    const stream = await listen(provider.cookie!, Number(oldest.id) - 1);
    expect(Number(total.n)).toBeLessThanOrEqual(REPLAY_LIMIT);
    await stream.until((e) => e.length >= Number(total.n));
    expect(stream.resets).toBe(0);
    stream.close();
    await t.db
      .insertInto('request_status_events')
      .values(
        Array.from({ length: REPLAY_LIMIT }, () => ({
          request_id: 1,
          root_id: 1,
          parent_id: null,
          customer_id: tree.customerA.customer.id,
          entity: 'user' as const,
          entity_id: 1,
          action: 'provision' as const,
          status: 'Requested' as const,
        })),
      )
      .execute();
    const flooded = await listen(provider.cookie!, Number(oldest.id) - 1);
    const marker = (await provider.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'afterflood' })).json();
    await flooded.until((e) => e.some((x) => x.id === marker.requestId && x.status === 'Provisioned'));
    expect(flooded.resets).toBe(1);
    expect(flooded.events.every((e) => e.id === marker.requestId || e.eventId > Number(oldest.id) + REPLAY_LIMIT)).toBe(true);
    flooded.close();
  });

  it.runIf(process.env.TENANTRY_TEST_DB === 'postgres')(
    'delivers a change that commits after one with a higher event id, once',
    async () => {
      const stream = await listen(customerA.cookie!);
      const change = (requestId: number) => ({
        request_id: requestId,
        root_id: requestId,
        parent_id: null,
        customer_id: tree.customerA.customer.id,
        entity: 'user' as const,
        entity_id: tree.customerA.adminUser.id,
        action: 'update' as const,
        status: 'Provisioned' as const,
      });
      // The earlier event id stays uncommitted until a later one has committed and been delivered:
      // a reader that resumed after the highest id it had seen would skip it for good.
      let earlierId = 0;
      await t.db.transaction().execute(async (tx) => {
        earlierId = Number(
          (await tx.insertInto('request_status_events').values(change(2_000_000_001)).returning('id').executeTakeFirstOrThrow()).id,
        );
        const later = await t.db
          .insertInto('request_status_events')
          .values(change(2_000_000_002))
          .returning('id')
          .executeTakeFirstOrThrow();
        expect(Number(later.id)).toBeGreaterThan(earlierId);
        await stream.until((e) => e.some((x) => x.eventId === Number(later.id)));
        expect(stream.events.some((x) => x.eventId === earlierId)).toBe(false);
      });
      await stream.until((e) => e.some((x) => x.eventId === earlierId));
      // Changes made through the product still arrive after it, each once.
      const after = (await customerA.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'aftergap' })).json();
      await stream.until((e) => e.some((x) => x.id === after.requestId && x.status === 'Provisioned'));
      expect(new Set(stream.ids).size).toBe(stream.ids.length);
      stream.close();
    },
  );

  it('keeps the console usable with more open streams (tabs) than the concurrent-request limit', async () => {
    const streams = await Promise.all(Array.from({ length: t.ctx.config.maxConcurrentPerUser + 2 }, () => listen(customerA.cookie!)));
    const res = await customerA.get('/api/console/session');
    expect(res.statusCode).toBe(200);
    for (const s of streams) s.close();
  });

  it("ends a disabled user's stream at once with a last event that says why", async () => {
    const { user, generatedPassword } = (
      await provider.post(`/api/console/customers/${tree.customerA.customer.id}/users`, { name: 'watcher' })
    ).json();
    await provider.put(`/api/console/users/${user.id}/roles`, { roles: ['Customer Administrator'] });
    const watcher = await setup.signIn(user.name, generatedPassword);
    // No stream checks its session on its own within this test: only the credential change can end it.
    consoleGate(t.ctx, { streamCheckMs: 3_600_000 });
    let disabling: Promise<unknown> | undefined;
    const ended = new Promise<string>((resolve, reject) => {
      http
        .get(`${origin}/api/console/requests/events`, { headers: { cookie: `tenantry_session=${watcher.cookie}` } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (!disabling && text.startsWith(': connected')) disabling = provider.post(`/api/console/users/${user.id}/disable`);
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    const text = await ended;
    await disabling;
    expect(text).toMatch(
      /event: signed-out\ndata: \{"code":"AccountDisabled","message":"Your session has ended: your user has been disabled/,
    );
  });

  it('refuses the stream without a session', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/console/requests/events' });
    expect(res.statusCode).toBe(401);
  });

  it('lists requests with filters and shows one with its log, step times and children', async () => {
    const { customer, requestId } = (
      await provider.post('/api/console/customers', {
        fullname: 'Req Co',
        contactName: 'R',
        contactEmail: 'r@req.example',
        primaryDomain: 'req.example',
      })
    ).json();
    await settle(t.db, [requestId]);
    const list = (await provider.get(`/api/console/requests?customerId=${customer.id}&entity=customer&status=Provisioned`)).json();
    expect(list.items).toEqual([
      expect.objectContaining({
        id: requestId,
        entity: 'customer',
        entityName: customer.name,
        customer: { id: customer.id, name: customer.name },
        status: 'Provisioned',
        action: 'provision',
      }),
    ]);
    expect((await provider.get(`/api/console/requests?customerId=${customer.id}&status=Failed`)).json().total).toBe(0);
    expect(
      (await provider.get(`/api/console/requests?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`)).json().total,
    ).toBe(0);
    expect((await provider.get('/api/console/requests?status=Done')).json().error).toMatchObject({
      code: 'ValidationError',
      field: 'status',
    });
    expect((await provider.get('/api/console/requests?from=yesterday')).json().error).toMatchObject({ field: 'from' });

    const detail = (await provider.get(`/api/console/requests/${requestId}`)).json();
    expect(detail).toMatchObject({ id: requestId, status: 'Provisioned', children: [] });
    expect(detail.log.length).toBeGreaterThan(0);
    expect(detail.steps.length).toBeGreaterThan(0);
    expect((await customerA.get(`/api/console/requests/${requestId}`)).statusCode).toBe(404);
  });

  it('retries a failed request', async () => {
    await t.db
      .updateTable('services')
      .set({ driver: 'simulated', driver_config: JSON.stringify({ failureRate: 1, transient: false }) })
      .where('code', '=', 'Citrix')
      .execute();
    const { customerService, requestId } = (
      await provider.post(`/api/console/customers/${tree.direct.customer.id}/services`, { serviceId: await serviceId('Citrix') })
    ).json();
    expect(customerService.service.code).toBe('Citrix');
    await settle(t.db, [requestId]);
    expect((await provider.get(`/api/console/requests/${requestId}`)).json().status).toBe('Failed');
    await t.db
      .updateTable('services')
      .set({ driver_config: JSON.stringify({ failureRate: 0 }) })
      .where('code', '=', 'Citrix')
      .execute();
    const retried = await provider.post(`/api/console/requests/${requestId}/retry`);
    expect(retried.json()).toEqual({ retried: [requestId] });
    await settle(t.db, [requestId]);
    expect((await provider.get(`/api/console/requests/${requestId}`)).json().status).toBe('Provisioned');
    const again = await provider.post(`/api/console/requests/${requestId}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('InvalidStatus');
  });
});

async function serviceId(code: string): Promise<number> {
  return (await t.db.selectFrom('services').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id;
}
