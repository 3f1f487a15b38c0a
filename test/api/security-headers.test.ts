import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { buildServer } from '../../src/api/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/api/security-headers.js';

let t: TestContext;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  t = await openTestContext();
  app = await buildServer(t.ctx);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await t?.close();
});

describe('security headers on every HTTP answer', () => {
  const answers: [string, string, RequestInit?][] = [
    ['health check', '/healthz'],
    ['console page', '/'],
    ['console deep link', '/customers/1'],
    ['unknown API path', '/api/nothing-here'],
    ['CortexAPI without credentials', '/CortexAPI/Default.aspx', { method: 'POST', body: '<request/>' }],
    ['console API without a session', '/api/console/session'],
    ['External REST API without a token', '/api/Billing/parameters'],
    ['OpenAPI document', '/api/openapi.json'],
  ];
  for (const [what, path, init] of answers) {
    it(what, async () => {
      const res = await fetch(base + path, init);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('permissions-policy')).toContain('camera=()');
    });
  }

  it('the console policy allows same-origin scripts only, inline styles for the component library, and no framing', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
    expect(CONTENT_SECURITY_POLICY).toContain("style-src 'self' 'unsafe-inline'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });

  it('the console page loads no inline script the policy would block', async () => {
    const html = await (await fetch(base + '/')).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('Swagger UI keeps its own policy (it loads fonts and styles the console does not) without forcing https', async () => {
    const res = await fetch(base + '/api/docs/static/index.html');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain('validator.swagger.io');
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
