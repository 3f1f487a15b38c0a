import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { CONSOLE_DIST, INITIAL_JS_BUDGET_BYTES, measureConsoleBundle } from '../../src/api/web-console/bundle-report.js';
import { consoleAppRoutes } from '../../src/api/web-console/serve-console.js';
import { openTestContext, type TestContext } from '../support/test-db.js';

describe('the web console served by the API server', () => {
  let t: TestContext;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestContext();
    app = await buildServer(t.ctx);
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });

  it('answers / with the console page, never cached so a new release shows at once', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('<div id="root"></div>');
  });

  it('answers a deep link such as /customers/42 with the same page, for the browser router', async () => {
    const root = await app.inject({ method: 'GET', url: '/' });
    for (const url of ['/customers/42', '/requests/7?tab=log', '/account/two-factor']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(root.body);
    }
  });

  it('leaves unknown API paths, assets and methods with their 404 rather than the console page', async () => {
    for (const url of [
      '/api/nothing-here',
      '/api/console/nothing-here',
      '/CortexAPI/nothing',
      '/cortexapi/x',
      '/assets/missing-123.js',
      '/favicon.ico',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).not.toMatch(/text\/html/);
    }
    const post = await app.inject({ method: 'POST', url: '/customers/42', payload: {} });
    expect(post.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('serves the hashed scripts with a year-long immutable cache', async () => {
    const html = (await app.inject({ method: 'GET', url: '/' })).body;
    const entry = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(entry).toBeDefined();
    const res = await app.inject({ method: 'GET', url: entry! });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('keeps the JavaScript needed for the first page under 250 kB gzip', () => {
    const report = measureConsoleBundle(CONSOLE_DIST);
    expect(report.initialFiles.length).toBeGreaterThan(0);
    expect(report.initialJsGzipBytes).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
    // The pages load on demand: the first download is not the whole console.
    expect(report.chunks).toBeGreaterThan(report.initialFiles.length);
  });
});

describe('a server whose console is not built', () => {
  it('says how to build it instead of a bare 404, and keeps API 404s', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-nodist-'));
    const app = Fastify();
    try {
      await consoleAppRoutes(empty)(app, undefined as never);
      const page = await app.inject({ method: 'GET', url: '/customers' });
      expect(page.statusCode).toBe(503);
      expect(page.body).toContain('npm run build:web');
      expect((await app.inject({ method: 'GET', url: '/api/console/customers' })).statusCode).toBe(404);
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
