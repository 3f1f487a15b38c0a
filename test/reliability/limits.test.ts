import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cortexErrorId, cortexRequest, openReliabilityApp, type ReliabilityApp } from './support.js';

/**
 * Issue 10: one FIND of a customer with 20 users and `<user/>` repeated 120,000 times (840 kB)
 * killed the process (heap out of memory). These run it at 10x that size and check both that the
 * answer is a CortexAPI error and that the process's memory stayed bounded.
 */
const CRASHED_AT = 120_000;
const MB = 1024 * 1024;
/** The most this test process's RSS may grow while serving the hostile requests (it crashed past 4 GB). */
const RSS_GROWTH_BOUND_MB = 512;

const repeatedUsers = (customer: string, copies: number) =>
  cortexRequest('FIND', `<customer><name>${customer}</name>${'<user/>'.repeat(copies)}</customer>`);

function rssMb(): number {
  return process.memoryUsage().rss / MB;
}

/** Runs fn while sampling RSS; returns the peak growth over the RSS at the start, in MB. */
async function peakRssGrowth(fn: () => Promise<void>): Promise<number> {
  const start = rssMb();
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 5);
  try {
    await fn();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, rssMb()) - start;
}

async function expectLimitError(r: ReliabilityApp, body: string, id: number, message: RegExp): Promise<void> {
  const res = await r.cortex(body, r.tenantAdmin);
  expect(res.statusCode, res.body.slice(0, 400)).toBe(400);
  expect(cortexErrorId(res)).toBe(id);
  expect(res.body).toMatch(message);
}

describe('with the default limits', () => {
  let r: ReliabilityApp;
  beforeAll(async () => {
    r = await openReliabilityApp();
  });
  afterAll(async () => r.close());

  it('answers a FIND of its 20 users normally', async () => {
    const res = await r.cortex(repeatedUsers(r.tenant.customer.name, 1), r.tenantAdmin);
    expect(res.statusCode).toBe(200);
    expect(res.body.match(/<user>/g)).toHaveLength(20);
  });

  it('refuses 10x the crashing request (1.2M <user/>, 8.4 MB) at the body limit, with RSS bounded', async () => {
    const growth = await peakRssGrowth(() =>
      expectLimitError(r, repeatedUsers(r.tenant.customer.name, 10 * CRASHED_AT), 3, /larger than 1048576 bytes/),
    );
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND_MB);
  });

  it('refuses a request just inside the body limit by its element counts, before parsing it', async () => {
    const copies = Math.floor((MB - 200) / '<user/>'.length);
    const growth = await peakRssGrowth(() =>
      expectLimitError(r, repeatedUsers(r.tenant.customer.name, copies), 0, /more than 1000 child elements/),
    );
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND_MB);
  });

  it('refuses more than 1,000 children of one element (the 14 MB GET of 28,000 users)', async () => {
    const users = Array.from({ length: 1001 }, (_, i) => `<user><name>user${(i % 19) + 1}</name></user>`).join('');
    await expectLimitError(
      r,
      cortexRequest('GET', `<customer><name>${r.tenant.customer.name}</name>${users}</customer>`),
      0,
      /more than 1000 child elements/,
    );
  });

  it('still serves the tenant afterwards', async () => {
    const res = await r.cortex(repeatedUsers(r.tenant.customer.name, 1), r.tenantAdmin);
    expect(res.statusCode).toBe(200);
  });
});

describe('with request limits raised out of the way, the answer budget holds', () => {
  let r: ReliabilityApp;
  beforeAll(async () => {
    r = await openReliabilityApp({ xmlBodyLimit: 16 * MB, cortexMaxElements: 5_000_000, cortexMaxChildren: 5_000_000 });
  });
  afterAll(async () => r.close());

  it('refuses 10x the crashing request by the size of its answer, with RSS bounded', async () => {
    const growth = await peakRssGrowth(() =>
      expectLimitError(r, repeatedUsers(r.tenant.customer.name, 10 * CRASHED_AT), 0, /answer would have more than 200000 elements/),
    );
    if (process.env.TENANTRY_REPORT_RSS) console.log(`peak RSS growth: ${growth.toFixed(0)} MB`);
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND_MB);
  });
});

describe('the answer size limit', () => {
  let r: ReliabilityApp;
  beforeAll(async () => {
    r = await openReliabilityApp({ cortexMaxResponseBytes: 4096 });
  });
  afterAll(async () => r.close());

  it('refuses an answer larger than the byte limit with a clear error', async () => {
    await expectLimitError(r, repeatedUsers(r.tenant.customer.name, 5), 0, /answer would have more than 4096 bytes/);
  });

  it('answers a small request normally', async () => {
    const res = await r.cortex(cortexRequest('FIND', `<customer><name>${r.tenant.customer.name}</name></customer>`), r.tenantAdmin);
    expect(res.statusCode).toBe(200);
  });
});
