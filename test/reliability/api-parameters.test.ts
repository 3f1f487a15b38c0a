/*
 * Every console and External API route, walked from the OpenAPI document the server builds from its
 * registered routes: each parameter gets the values a careless or hostile client sends (not numbers,
 * numbers past int4/int8, NaN, NUL, control characters, overlong text) and must answer a 4xx in its
 * API's error shape, never a 500 and never PostgreSQL's words. A new route whose parameters or body
 * fields are unbounded fails the schema checks below before it ships.
 */
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE } from '../../src/core/limits.js';
import { basic, envelopeOf, openReliabilityApp, PROVIDER_ADMIN, type ReliabilityApp } from './support.js';

interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: Record<string, unknown>;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Record<string, unknown>;
}

let r: ReliabilityApp;
let operations: Operation[];
beforeAll(async () => {
  r = await openReliabilityApp({ ratePerUser: Infinity, ratePerCustomer: Infinity }, 3);
  const doc = r.app.swagger() as unknown as { paths: Record<string, Record<string, Record<string, unknown>>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: (op.parameters ?? []) as Parameter[],
      body: (op.requestBody as { content?: Record<string, { schema: Record<string, unknown> }> } | undefined)?.content?.['application/json']
        ?.schema,
    })),
  );
});
afterAll(async () => r.close());

const isConsole = (path: string) => path.startsWith('/api/console/');
const PG_WORDS =
  /\b(22P02|22003|22021|42P01|42703|23505)\b|invalid input syntax|out of range for type|postgres|relation "|unsupported Unicode/i;

const INTEGER_VALUES = ['abc', '99999999999999999999', '2147483648', '9223372036854775808', '-1', 'NaN', 'Infinity', '1.5', '%00', ''];
const STRING_VALUES = ['%00', 'a%00b', 'a%01b', 'a%1Fb', '%7F', 'x'.repeat(20_000)];
const OTHER_VALUES = ['%00', 'maybe', 'x'.repeat(20_000)];

/** A valid value for each path parameter, so that the probe's parameter is the only bad one. */
function validPathValue(p: Parameter): string {
  if (p.schema.type === 'integer') return '1';
  if (p.schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  if (p.name === 'endDate') return '2024-05-31';
  return 'x';
}

function urlWith(op: Operation, bad: Parameter, value: string): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const p = op.parameters.find((q) => q.in === 'path' && q.name === name)!;
    return p === bad ? value : validPathValue(p);
  });
  const required = op.parameters.filter((q) => q.in === 'query' && q !== bad && (q as { required?: boolean }).required);
  const query = [...required.map((q) => `${q.name}=${validPathValue(q)}`), ...(bad.in === 'query' ? [`${bad.name}=${value}`] : [])];
  return query.length ? `${path}?${query.join('&')}` : path;
}

function send(method: string, url: string, payload?: string): Promise<LightMyRequestResponse> {
  return r.app.inject({
    method: method as 'GET',
    url,
    headers: {
      authorization: isConsole(url) ? basic(PROVIDER_ADMIN) : `Bearer ${r.token}`,
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(payload === undefined ? {} : { payload }),
  });
}

/** A refusal in the route's documented error shape: console `{error, requestId}`, External API envelope. */
function expectRefusal(res: LightMyRequestResponse, url: string, what = url): void {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  expect(res.body, what).not.toMatch(PG_WORDS);
  expect(res.body, what).not.toMatch(/at .*\.(ts|js):\d+/);
  if (isConsole(url)) {
    const body = res.json() as { error: { code: string; message: string }; requestId: string };
    expect(typeof body.error.code, what).toBe('string');
    expect(body.error.message.length, what).toBeGreaterThan(0);
    expect(body.requestId, what).toBeTruthy();
  } else {
    const env = envelopeOf(res);
    expect(env.success, what).toBe(false);
    expect(env.errorMessage, what).toBeTruthy();
  }
}

const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);

describe('every route parameter refuses bad values with a 4xx in its API error shape', () => {
  it('walks at least the routes this test was written against', () => {
    expect(operations.filter((o) => isConsole(o.path)).length).toBeGreaterThanOrEqual(90);
    expect(operations.filter((o) => !isConsole(o.path)).length).toBeGreaterThanOrEqual(3);
  });

  it('every path and query parameter of every route', async () => {
    let probes = 0;
    for (const op of operations) {
      for (const p of op.parameters) {
        const values = p.schema.type === 'integer' ? INTEGER_VALUES : p.schema.type === 'string' ? STRING_VALUES : OTHER_VALUES;
        for (const value of values) {
          // An empty optional query value means "not given" on both APIs: not a refusal.
          if (value === '' && p.in === 'query') continue;
          const url = urlWith(op, p, value);
          const what = `${op.method} ${url.slice(0, 160)}`;
          const res = await send(op.method, url, bodyMethods.has(op.method) ? '{}' : undefined);
          // A search for text that matches nothing is a fine answer; everything else here is the client's mistake.
          if (res.statusCode === 200 && p.in === 'query' && /^(search|serviceSearch|userSearch)$/.test(p.name) && value.length > 1000) {
            throw new Error(`${what}: an overlong search was answered`);
          }
          expectRefusal(res, url, what);
          probes++;
        }
      }
    }
    expect(probes).toBeGreaterThan(500);
  });

  it('the examples from issue 16', async () => {
    for (const url of [
      '/api/console/tokens?userId=abc',
      '/api/console/tokens?userId=99999999999999999999',
      '/api/console/customers/abc',
      '/api/console/customers/2147483648',
      '/api/console/customers/99999999999999999999',
      '/api/console/users?search=%00',
      '/api/console/customers?search=%00',
      '/api/console/billing/detail?offset=99999999999999999999',
      '/api/console/jobs/runs/1/logs?offset=99999999999999999999',
      '/api/console/jobs?search=%00',
      '/api/billing/2024-05-31/detail?customerId=99999999999999999999',
      '/api/billing/2024-05-31?customerId=2147483648',
    ]) {
      expectRefusal(await send('GET', url), url);
    }
    const notNumeric = await send('GET', '/api/console/customers/abc');
    expect(notNumeric.json().error).toMatchObject({ code: 'ValidationError', field: 'id' });
  });

  it('a NUL, a control character or a lone surrogate in any JSON body string, value or property name', async () => {
    const cases: [string, string, string, string][] = [
      ['POST', '/api/console/tokens', '{"label":"a\\u0000b"}', 'label'],
      ['POST', '/api/console/tokens', '{"label":"a\\u001bb"}', 'label'],
      ['POST', '/api/console/tokens', '{"label":"a\\ud800b"}', 'label'],
      [
        'POST',
        '/api/console/customers',
        '{"fullname":"Nul Ltd","contactName":"N","contactEmail":"n@nul.example","primaryDomain":"nul.example","address1":"1\\u0000 Main St"}',
        'address1',
      ],
      [
        'POST',
        '/api/console/customers',
        '{"fullname":"Nul Ltd","contactName":"N","contactEmail":"n@nul.example","primaryDomain":"nul.example","properties":{"k\\u0000":"v"}}',
        'properties.k\u0000',
      ],
      ['PATCH', '/api/console/customers/1', '{"properties":{"colour":"re\\u0000d"}}', 'properties.colour'],
      [
        'POST',
        '/api/console/jobs',
        '{"label":"x","task":"autotask-sync","cron":"0 0 * * *","parameters":{"BaseUrl":"a\\u0000"}}',
        'parameters.BaseUrl',
      ],
      ['POST', '/api/console/session', '{"userName":"admin\\u0000","password":"x"}', 'userName'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await send(method, url, payload);
      expectRefusal(res, url, `${method} ${url} ${payload}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'ValidationError', field });
    }
    const tokens = await r.t.db.selectFrom('api_tokens').select('label').execute();
    expect(tokens.map((t) => t.label)).toEqual(['reliability']);
  });

  it('a JSON body nested deeper than 32 levels in a free-form field', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const res = await send('POST', '/api/console/jobs', `{"label":"x","task":"autotask-sync","cron":"0 0 * * *","parameters":${deep}}`);
    expectRefusal(res, '/api/console/jobs', 'deep parameters');
  });
});

/** JSON-schema nodes a route takes from its client, with where they sit. */
function* schemaNodes(schema: unknown, where: string): Generator<[string, Record<string, unknown>]> {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  yield [where, s];
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) yield* schemaNodes(v, `${where}.${k}`);
  if (s.items) yield* schemaNodes(s.items, `${where}[]`);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') yield* schemaNodes(s.additionalProperties, `${where}{}`);
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const)
    for (const [i, v] of ((s[k] ?? []) as unknown[]).entries()) yield* schemaNodes(v, `${where}/${k}${i}`);
}

const typesOf = (s: Record<string, unknown>): string[] => (Array.isArray(s.type) ? (s.type as string[]) : s.type ? [String(s.type)] : []);

describe('every console route bounds what it accepts in its schema', () => {
  it('strings have a length limit, numbers a range, lists and maps a size', () => {
    const unbounded: string[] = [];
    for (const op of operations.filter((o) => isConsole(o.path))) {
      const inputs: [string, unknown][] = [
        ...op.parameters.map((p): [string, unknown] => [`${p.in}:${p.name}`, p.schema]),
        ['body', op.body],
      ];
      for (const [where, schema] of inputs) {
        for (const [at, node] of schemaNodes(schema, where)) {
          const types = typesOf(node);
          const closedValues = Array.isArray(node.enum) || node.format === 'uuid' || node.format === 'date-time';
          if (types.includes('string') && !closedValues && typeof node.maxLength !== 'number')
            unbounded.push(`${op.method} ${op.path} ${at}: string`);
          if (types.includes('integer') && (typeof node.minimum !== 'number' || typeof node.maximum !== 'number') && !closedValues)
            unbounded.push(`${op.method} ${op.path} ${at}: integer`);
          if (types.includes('array') && typeof node.maxItems !== 'number') unbounded.push(`${op.method} ${op.path} ${at}: array`);
          if (
            types.includes('object') &&
            node.additionalProperties !== false &&
            node.additionalProperties !== undefined &&
            typeof node.maxProperties !== 'number'
          )
            unbounded.push(`${op.method} ${op.path} ${at}: map`);
        }
      }
    }
    expect(unbounded).toEqual([]);
  });

  it('no integer id is larger than int4 allows', () => {
    const tooWide: string[] = [];
    for (const op of operations.filter((o) => isConsole(o.path)))
      for (const p of op.parameters)
        if (p.schema.type === 'integer' && Number(p.schema.maximum) > 2147483647) tooWide.push(`${op.method} ${op.path} ${p.name}`);
    expect(tooWide).toEqual([]);
  });
});

describe(`every list's page is at most MAX_PAGE_SIZE (${MAX_PAGE_SIZE}) rows`, () => {
  const pageParameters = () =>
    operations.flatMap((op) => op.parameters.filter((p) => p.in === 'query' && /^(pageSize|limit)$/.test(p.name)).map((p) => ({ op, p })));

  it('every list that pages names the shared cap as its maximum', () => {
    const lists = pageParameters();
    expect(lists.length).toBeGreaterThanOrEqual(8);
    expect(lists.filter(({ p }) => p.schema.maximum !== MAX_PAGE_SIZE).map(({ op, p }) => `${op.path} ${p.name}`)).toEqual([]);
  });

  it('one row over the cap is a 400 that says the cap; the cap itself is accepted', async () => {
    for (const { op, p } of pageParameters()) {
      const overUrl = urlWith(op, p, String(MAX_PAGE_SIZE + 1));
      const over = await send(op.method, overUrl);
      expectRefusal(over, overUrl);
      expect(over.statusCode).toBe(400);
      expect(over.json().error).toMatchObject({ code: 'ValidationError', field: p.name });
      expect(over.json().error.message).toContain(`at most ${MAX_PAGE_SIZE}`);
      const at = await send(op.method, urlWith(op, p, String(MAX_PAGE_SIZE)));
      // 404: the list's parent (job 1, run 1) does not exist in this database; what matters is that the size passed.
      expect([200, 404], `${op.path} ${p.name}=${MAX_PAGE_SIZE}: ${at.body.slice(0, 200)}`).toContain(at.statusCode);
    }
  });
});

describe('an unexpected failure answers a generic 500 with the request id; the details only reach the log', () => {
  async function withTableGone<T>(table: string, fn: () => Promise<T>): Promise<T> {
    await sql`alter table ${sql.ref(table)} rename to ${sql.ref(`${table}_gone`)}`.execute(r.t.db);
    try {
      return await fn();
    } finally {
      await sql`alter table ${sql.ref(`${table}_gone`)} rename to ${sql.ref(table)}`.execute(r.t.db);
    }
  }

  it('console', async () => {
    const res = await withTableGone('jobs', () => send('GET', '/api/console/jobs'));
    expect(res.statusCode).toBe(500);
    const body = res.json() as { error: { code: string; message: string }; requestId: string };
    expect(body.error.code).toBe('InternalError');
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(body.error.message).toContain(body.requestId);
    expect(res.body).not.toMatch(PG_WORDS);
    expect(res.body).not.toContain('jobs');
  });

  it('External API', async () => {
    const res = await withTableGone('bill_items', () => send('GET', '/api/Billing/parameters'));
    expect(res.statusCode).toBe(500);
    const env = envelopeOf(res);
    expect(env.errorMessage).toContain(String(res.headers['x-request-id']));
    expect(res.body).not.toMatch(PG_WORDS);
    expect(res.body).not.toContain('bill_items');
  });
});
