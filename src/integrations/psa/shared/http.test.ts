import { describe, expect, it } from 'vitest';
import { CallCounter } from './call-counter.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs, type AttemptOutcome } from './http.js';
import { PsaTransportError } from './errors.js';

const response = (status: number, headers: Record<string, string> = {}): AttemptOutcome => ({
  kind: 'response',
  response: { status, headers: new Headers(headers), body: undefined },
});
const timeout: AttemptOutcome = { kind: 'transport', error: new PsaTransportError('autotask', 'timeout', 'GET', 'http://x', 1) };
const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 300, maxAttempts: 5, maxRetryAfterMs: 5_000 };

describe('retry decisions', () => {
  it('backs off exponentially up to the cap and stops at maxAttempts', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(response(503), n, policy, true))).toEqual([100, 200, 300, 300]);
    expect(retryDelayMs(response(503), 5, policy, true)).toBeUndefined();
  });

  it('retries 5xx and timeouts only for idempotent requests, 429 always, 4xx never', () => {
    expect(retryDelayMs(response(500), 1, policy, false)).toBeUndefined();
    expect(retryDelayMs(timeout, 1, policy, false)).toBeUndefined();
    expect(retryDelayMs(timeout, 1, policy, true)).toBe(100);
    expect(retryDelayMs(response(429), 1, policy, false)).toBe(100);
    expect(retryDelayMs(response(400), 1, policy, true)).toBeUndefined();
    expect(retryDelayMs(response(404), 1, policy, true)).toBeUndefined();
  });

  it('honours Retry-After in seconds or as a date, and refuses one beyond the cap', () => {
    expect(retryDelayMs(response(429, { 'Retry-After': '4' }), 1, policy, true)).toBe(4_000);
    expect(retryDelayMs(response(429, { 'Retry-After': '6' }), 1, policy, true)).toBeUndefined();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('CallCounter', () => {
  it('counts per operation and resets', () => {
    const counter = new CallCounter();
    counter.record('GET a');
    counter.record('GET a');
    counter.record('POST b');
    expect(counter.total).toBe(3);
    expect(counter.byOperation()).toEqual({ 'GET a': 2, 'POST b': 1 });
    counter.reset();
    expect(counter.total).toBe(0);
  });
});
