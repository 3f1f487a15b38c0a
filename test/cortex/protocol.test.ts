import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { startCortex, request, errorOf, type CortexClient, ADMIN } from './support.js';

let t: TestContext;
let api: CortexClient;

beforeAll(async () => {
  t = await openTestContext();
  api = await startCortex(t);
});
afterAll(async () => {
  await api.close();
  await t.close();
});

describe('the CortexAPI endpoint', () => {
  it('answers a browser GET with valid credentials with the empty response', async () => {
    const r = await api.get();
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('text/xml; charset=utf-8');
    expect(r.body).toBe('<?xml version="1.0" encoding="utf-8"?>\n<response version="1.0" />\n');
  });

  it('matches the path in any letter case', async () => {
    expect((await api.get(ADMIN, '/cortexapi/default.aspx')).status).toBe(200);
    expect((await api.get(ADMIN, '/CORTEXAPI/DEFAULT.ASPX')).status).toBe(200);
  });

  it('finds the provider', async () => {
    const r = await api.post(request('FIND', '<customer><id>' + t.provider.id + '</id></customer>'));
    expect(r.status).toBe(200);
    expect(r.xml.response.customer[0].name).toBe(t.provider.name);
  });

  it('refuses a request without credentials with 401 and code 11', async () => {
    const r = await api.post(request('FIND', '<customer/>'), null);
    expect(r.status).toBe(401);
    expect(errorOf(r)?.id).toBe(11);
  });
});
