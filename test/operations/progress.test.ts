import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { loadDemo } from '../../src/demo/demo.js';

let t: TestContext;
beforeAll(async () => {
  t = await openTestContext();
});
afterAll(() => t.close());

describe('progress of long commands', () => {
  it('demo reports each customer as it loads it, and which were already there', async () => {
    const lines: string[] = [];
    const answer = await loadDemo(t.ctx, t.admin, { password: 'Demo-Passw0rd!', onProgress: (l) => lines.push(l) });
    expect(answer).toMatch(/^demo data loaded: 4 customers/);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^1\/4 Northwind Reseller: \d+ user\(s\), \d+ service\(s\)…$/);
    expect(lines[3]).toMatch(/^4\/4 Tailspin Toys: 1 user\(s\), 1 service\(s\)…$/);
    const again: string[] = [];
    expect(await loadDemo(t.ctx, t.admin, { onProgress: (l) => again.push(l) })).toBe('demo data already present');
    expect(again).toEqual(lines.map((l) => l.replace(/: .*$/, ': already there')));
  });
});
