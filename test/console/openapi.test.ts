import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { buildServer } from '../../src/api/server.js';

let t: TestContext;
let app: FastifyInstance;

beforeAll(async () => {
  t = await openTestContext();
  app = await buildServer(t.ctx);
});
afterAll(async () => {
  await app?.close();
  await t?.close();
});

describe('OpenAPI document of the console API', () => {
  it('lists every console endpoint with its parameters, request body and answers', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, { responses?: Record<string, unknown>; requestBody?: unknown; security?: unknown[] }>>,
    )) {
      if (!path.startsWith('/api/console/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        expect(Object.keys(op.responses ?? {}), `${method} ${path}`).toContain('4XX');
        if (
          ['post', 'put', 'patch'].includes(method) &&
          path !== '/api/console/requests/{id}/retry' &&
          !/\/(disable|enable|deprovision|reprovision)$/.test(path)
        ) {
          expect(op.requestBody, `${method} ${path} has a request schema`).toBeDefined();
        }
      }
    }
    // Every console route registered through the console router is in the document.
    const routes = app.printRoutes({ commonPrefix: false });
    for (const expected of [
      'POST /api/console/session',
      'GET /api/console/session',
      'DELETE /api/console/session',
      'POST /api/console/account/totp/enrol',
      'GET /api/console/customers',
      'GET /api/console/customers/tree',
      'POST /api/console/customers',
      'PATCH /api/console/customers/{id}',
      'GET /api/console/customers/{id}/delete-preview',
      'GET /api/console/users',
      'POST /api/console/customers/{id}/users',
      'PUT /api/console/users/{id}/roles',
      'POST /api/console/users/{id}/reset-password',
      'GET /api/console/customers/{id}/services/catalog',
      'POST /api/console/users/{id}/services',
      'GET /api/console/requests',
      'GET /api/console/requests/events',
      'POST /api/console/requests/{id}/retry',
      'GET /api/console/approvals',
      'POST /api/console/approvals/{subscriptionId}/approve',
    ])
      expect(documented, expected).toContain(expected);
    expect(routes).toContain('console');
    expect(doc.components.securitySchemes).toMatchObject({
      basic: { scheme: 'basic' },
      consoleSession: { in: 'cookie', name: 'tenantry_session' },
    });
    const signIn = doc.paths['/api/console/session'].post;
    expect(signIn.security).toEqual([]);
    expect(signIn.requestBody.content['application/json'].schema.required).toEqual(['userName', 'password']);
  });
});
