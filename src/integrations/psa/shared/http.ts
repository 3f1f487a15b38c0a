import { setTimeout as delay } from 'node:timers/promises';
import { CallCounter } from './call-counter.js';
import { PsaHttpError, PsaTransportError, type PsaVendor } from './errors.js';

/** Bounded retry with exponential backoff. */
export interface RetryPolicy {
  /** Total attempts including the first one. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is thrown instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface PsaRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Label for the call counter, for example `POST Companies/query`. */
  operation: string;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * Safe to send twice. Only idempotent requests are retried after a 5xx, a timeout or a
   * network error: a POSTed Autotask adjustment that timed out may already have been
   * applied, and sending it again would double the unit change (psa-wire.md A.9).
   * 429 is retried for every request because the server refused it unprocessed.
   */
  idempotent: boolean;
}

export interface PsaResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, raw text when the body is not JSON, undefined when empty. */
  body: unknown;
}

export interface RetryEvent {
  operation: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface PsaHttpOptions {
  vendor: PsaVendor;
  /** Extracts human-readable messages from a vendor error body. */
  errorMessages: (body: unknown) => string[];
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  counter?: CallCounter;
  /** Injected in tests to observe backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
}

/** Transport settings a PSA client passes through to its PsaHttp. */
export type PsaTransportOptions = Pick<PsaHttpOptions, 'timeoutMs' | 'retry' | 'counter' | 'sleep' | 'onRetry'>;

export type AttemptOutcome = { kind: 'response'; response: PsaResponse } | { kind: 'transport'; error: PsaTransportError };

/** HTTP transport shared by the PSA clients: JSON bodies, timeouts, bounded retries, call counting. */
export class PsaHttp {
  readonly counter: CallCounter;
  readonly #options: PsaHttpOptions;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: PsaHttpOptions) {
    this.#options = options;
    this.counter = options.counter ?? new CallCounter();
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  /** Sends `req`, retrying per policy. Resolves with a 2xx response or throws PsaHttpError / PsaTransportError. */
  async send(req: PsaRequest): Promise<PsaResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#attempt(req, attempt);
      if (outcome.kind === 'response' && outcome.response.status < 300) return outcome.response;
      const wait = retryDelayMs(outcome, attempt, this.#policy, req.idempotent);
      if (wait === undefined) throw this.#toError(req, outcome, attempt);
      this.#options.onRetry?.({ operation: req.operation, attempt, delayMs: wait, reason: describeOutcome(outcome) });
      await this.#sleep(wait);
    }
  }

  async #attempt(req: PsaRequest, attempt: number): Promise<AttemptOutcome> {
    this.counter.record(req.operation);
    const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['Content-Type'] = 'application/json';
    }
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { kind: 'response', response: { status: res.status, headers: res.headers, body: await readBody(res) } };
    } catch (cause) {
      const kind = isTimeout(cause) ? 'timeout' : 'network';
      return { kind: 'transport', error: new PsaTransportError(this.#options.vendor, kind, req.method, req.url, attempt, { cause }) };
    }
  }

  #toError(req: PsaRequest, outcome: AttemptOutcome, attempts: number): Error {
    if (outcome.kind === 'transport') {
      const e = outcome.error;
      return new PsaTransportError(e.vendor, e.kind, e.method, e.url, attempts, { cause: e.cause });
    }
    const { status, body } = outcome.response;
    return new PsaHttpError({
      vendor: this.#options.vendor,
      status,
      method: req.method,
      url: req.url,
      body,
      messages: this.#options.errorMessages(body),
      attempts,
    });
  }
}

const RETRYABLE_5XX = new Set([500, 502, 503, 504]);

/**
 * How long to wait before the next attempt, or undefined to stop. Exported for unit tests.
 * 429 honours Retry-After; a Retry-After beyond `maxRetryAfterMs` (for example Autotask's
 * hourly limit, psa-wire.md A.7) ends the run instead of blocking a job for an hour.
 */
export function retryDelayMs(outcome: AttemptOutcome, attempt: number, policy: RetryPolicy, idempotent: boolean): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  if (outcome.kind === 'transport') return idempotent ? backoff : undefined;
  const { status, headers } = outcome.response;
  if (status === 429) {
    const retryAfter = parseRetryAfter(headers.get('retry-after'));
    if (retryAfter === undefined) return backoff;
    return retryAfter <= policy.maxRetryAfterMs ? retryAfter : undefined;
  }
  if (RETRYABLE_5XX.has(status) && idempotent) return backoff;
  return undefined;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  // Autotask may send 401/403 bodies as plain text (psa-wire.md A.6): parse defensively.
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function describeOutcome(outcome: AttemptOutcome): string {
  return outcome.kind === 'transport' ? outcome.error.kind : `HTTP ${outcome.response.status}`;
}
