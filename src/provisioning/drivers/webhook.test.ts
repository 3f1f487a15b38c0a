import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransientDriverError } from './driver.js';
import { createWebhookDriver, DEFAULT_TIMEOUT_MS, signWebhookPayload, verifyWebhookSignature, type WebhookPayload } from './webhook.js';
import { recordingLog, task, user } from './test-fixtures.js';

const SECRET = 'whsec_test_secret';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver whose answer each test sets; it records every delivery. */
let server: Server;
let url: string;
let received: Received[] = [];
let respond: (body: string) => { status: number; body: string; hang?: boolean } = () => ({ status: 204, body: '' });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      const answer = respond(body);
      if (answer.hang) return;
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tenantry?token=abc`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  received = [];
  respond = () => ({ status: 204, body: '' });
});

const userTask = () =>
  task({
    requestId: 77,
    entity: 'user',
    action: 'provision',
    user: user({ password: 'S3cret!pw' }),
    desired: { enabled: true },
  });

describe('webhook driver', () => {
  it('posts the task as signed JSON with an idempotency key', async () => {
    const log = recordingLog();
    await createWebhookDriver({ url, secret: SECRET }).run(userTask(), log);

    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['idempotency-key']).toBe('77');
    const signature = delivery.headers['x-tenantry-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, signature, delivery.body, 300)).toBe(true);
    expect(verifyWebhookSignature('other-secret', signature, delivery.body, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, signature, `${delivery.body} `, 300)).toBe(false);

    const payload = JSON.parse(delivery.body) as WebhookPayload;
    expect(payload).toMatchObject({ requestId: 77, entity: 'user', action: 'provision', desired: { enabled: true } });
    expect(payload.customer.name).toBe('BAC');
    expect(payload.user?.name).toBe('User1_BAC');
    expect(payload.user).not.toHaveProperty('password');
    expect(delivery.body).not.toContain('S3cret!pw');
    expect(log.text()).not.toContain('token=abc');
    expect(log.steps).toEqual(['webhook POST']);
  });

  it('includes the password only when the operator config says so', async () => {
    await createWebhookDriver({ url, secret: SECRET, includePassword: true }).run(userTask(), recordingLog());
    expect((JSON.parse(received[0].body) as WebhookPayload).user?.password).toBe('S3cret!pw');
  });

  it('sends the same idempotency key on every attempt of a request', async () => {
    const driver = createWebhookDriver({ url, secret: SECRET });
    await driver.run({ ...userTask(), attempt: 1 }, recordingLog());
    await driver.run({ ...userTask(), attempt: 2 }, recordingLog());
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['77', '77']);
  });

  it('fails permanently on 4xx with the status and a body excerpt', async () => {
    respond = () => ({ status: 422, body: `unknown customer BAC ${'x'.repeat(500)}` });
    const run = createWebhookDriver({ url, secret: SECRET }).run(userTask(), recordingLog());
    await expect(run).rejects.toThrow(/answered HTTP 422: unknown customer BAC x+…$/);
    await expect(run).rejects.not.toBeInstanceOf(TransientDriverError);
  });

  it('retries on 5xx, 429, timeouts and refused connections', async () => {
    const driver = createWebhookDriver({ url, secret: SECRET });
    respond = () => ({ status: 503, body: 'maintenance' });
    await expect(driver.run(userTask(), recordingLog())).rejects.toThrow(
      new TransientDriverError('Webhook http://127.0.0.1:' + new URL(url).port + '/hooks/tenantry answered HTTP 503: maintenance'),
    );
    respond = () => ({ status: 429, body: 'slow down' });
    await expect(driver.run(userTask(), recordingLog())).rejects.toBeInstanceOf(TransientDriverError);

    // Only the hung delivery runs under the short timeout: an answered one never races it on a loaded machine.
    respond = () => ({ status: 200, body: '', hang: true });
    const started = Date.now();
    const impatient = createWebhookDriver({ url, secret: SECRET, timeoutMs: 200 });
    await expect(impatient.run(userTask(), recordingLog())).rejects.toThrow(/timed out after 200 ms/);
    // The configured timeout ended it, not the default.
    expect(Date.now() - started).toBeLessThan(DEFAULT_TIMEOUT_MS);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = createWebhookDriver({ url: `http://127.0.0.1:${closedPort}/`, secret: SECRET });
    const run = refused.run(userTask(), recordingLog());
    await expect(run).rejects.toBeInstanceOf(TransientDriverError);
    await expect(run).rejects.toThrow(/ECONNREFUSED/);
  });

  it('does not follow redirects', async () => {
    respond = () => ({ status: 302, body: '' });
    const run = createWebhookDriver({ url, secret: SECRET }).run(userTask(), recordingLog());
    await expect(run).rejects.toThrow(/answered HTTP 302/);
    await expect(run).rejects.not.toBeInstanceOf(TransientDriverError);
  });

  it('validates its config', () => {
    expect(() => createWebhookDriver({ url: 'ftp://x', secret: SECRET })).toThrow(
      'webhook driver config: "url" must use http:// or https://',
    );
    expect(() => createWebhookDriver({ url })).toThrow('webhook driver config: "secret" is required');
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"requestId":1}';
  const now = 1_700_000_000;

  it('accepts a signature within the tolerance and rejects a stale one', () => {
    const header = signWebhookPayload(SECRET, body, now);
    expect(verifyWebhookSignature(SECRET, header, body, 300, now + 299)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, body, 300, now + 301)).toBe(false);
  });

  it('accepts any v1 entry, for secret rotation', () => {
    const fresh = signWebhookPayload(SECRET, body, now).split(',')[1];
    const header = `t=${now},v1=${'0'.repeat(64)},${fresh}`;
    expect(verifyWebhookSignature(SECRET, header, body, 300, now)).toBe(true);
  });

  it('rejects malformed headers', () => {
    for (const header of [undefined, '', 'v1=abc', `t=${now}`, `t=abc,v1=${'0'.repeat(64)}`, `t=${now},t=${now},v1=00`]) {
      expect(verifyWebhookSignature(SECRET, header, body, 300, now)).toBe(false);
    }
  });
});
