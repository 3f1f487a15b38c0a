import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, cortexErrorId, openReliabilityApp, PROVIDER_ADMIN, type ReliabilityApp } from '../reliability/support.js';
import { applyEdits, edit, restUrl } from './mutations.js';

/**
 * Property-based fuzzing of the APIs in-process (Fastify inject: routing, body parsing, handlers
 * and the database are real). TENANTRY_FUZZ_RUNS sets the case count (npm test: 10,000 in total;
 * `npm run fuzz`: 100,000), TENANTRY_FUZZ_SEED the seed; a failure prints the seed, the path and
 * the shrunk case, so `TENANTRY_FUZZ_SEED=<seed>` reproduces it.
 */
const RUNS = Number(process.env.TENANTRY_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.TENANTRY_FUZZ_SEED ?? 20261130);
const CORTEX_RUNS = Math.round(RUNS * 0.7);
const REST_RUNS = RUNS - CORTEX_RUNS;
/** Growth of this process's RSS allowed over the whole run (a leak or an unbounded answer would pass it). */
const RSS_GROWTH_BOUND_MB = 512;

const SEED_REQUESTS: string[] = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'seed-requests.json'), 'utf8'));

let r: ReliabilityApp;
let rssStart: number;
let rssPeak = 0;
const rss = () => process.memoryUsage().rss / 1024 / 1024;

beforeAll(async () => {
  // One user sends thousands of requests a minute here: fair-use limits are tested on their own.
  r = await openReliabilityApp({ ratePerUser: Infinity, ratePerCustomer: Infinity }, 5);
  rssStart = rss();
  rssPeak = rssStart;
});
afterAll(async () => {
  if (process.env.TENANTRY_REPORT_RSS)
    console.log(`fuzz: ${RUNS} cases, seed ${SEED}, RSS ${rssStart.toFixed(0)} → peak ${rssPeak.toFixed(0)} MB`);
  await r?.close();
});

async function assertHealthy(): Promise<void> {
  const health = await r.app.inject({ method: 'GET', url: '/healthz' });
  expect(health.statusCode).toBe(200);
  const find = await r.cortex(
    SEED_REQUESTS.find((d) => /action="FIND"/.test(d))!,
    r.tenantAdmin,
  );
  expect(find.statusCode).toBe(200);
  rssPeak = Math.max(rssPeak, rss());
  expect(rssPeak - rssStart, 'RSS growth (MB)').toBeLessThan(RSS_GROWTH_BOUND_MB);
}

describe(`fuzzing (seed ${SEED})`, () => {
  it(`CortexAPI: ${CORTEX_RUNS} mutated seed requests answer well-formed XML, never 5xx`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SEED_REQUESTS.length - 1),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        fc.nat(9),
        async (doc, edits, who) => {
          const body = applyEdits(SEED_REQUESTS[doc]!, edits);
          // Mostly a customer administrator (the attacker); sometimes the provider's admin.
          const res = await r.cortex(body, who === 0 ? PROVIDER_ADMIN : r.tenantAdmin);
          expect(res.statusCode, res.body.slice(0, 500)).toBeLessThan(500);
          const id = cortexErrorId(res);
          if (res.statusCode !== 200) expect(id).toBeDefined();
          if (++n % 500 === 0) await assertHealthy();
        },
      ),
      { numRuns: CORTEX_RUNS, seed: SEED, endOnFailure: false, verbose: 1 },
    );
    await assertHealthy();
  }, 1_800_000);

  it(`REST and console: ${REST_RUNS} mutated URLs answer JSON in their API's shape, never 5xx`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(restUrl, async ({ console, url }) => {
        const res = await r.app.inject({
          method: 'GET',
          url,
          headers: { authorization: console ? basic(r.tenantAdmin) : `Bearer ${r.token}` },
        });
        expect(res.statusCode, `${url.slice(0, 200)} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
        const type = String(res.headers['content-type'] ?? '');
        if (/json/.test(type)) {
          const body = res.json();
          // Console errors are {error: {code, message}}, External API errors the seed's envelope; a URL no
          // route matches gets the router's 404 {message}.
          if (res.statusCode >= 400)
            expect(
              body.error?.message ?? body.errorMessage ?? (res.statusCode === 404 ? body.message : undefined),
              url.slice(0, 200),
            ).toBeTruthy();
        } else if (/xml/.test(type)) expect(XMLValidator.validate(res.body)).toBe(true);
        else expect(type, url).toMatch(/text\/csv|spreadsheetml|text\/html/);
        if (++n % 500 === 0) await assertHealthy();
      }),
      { numRuns: REST_RUNS, seed: SEED, endOnFailure: false, verbose: 1 },
    );
    await assertHealthy();
  }, 1_800_000);
});
