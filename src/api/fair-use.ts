import { getHeapStatistics } from 'node:v8';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';
import { DomainError } from '../core/errors.js';
import type { Caller } from '../tenancy/caller.js';

/** Each API caller's share of the server (docs/security.md, "Limits"). */
export interface FairUseLimits {
  /** Requests one user may have running at once. */
  perUserConcurrent: number;
  /** Requests all users of one customer (tenant) may have running at once. */
  perCustomerConcurrent: number;
  /** Requests one user may start per minute (a bucket of this size, refilled continuously). */
  perUserPerMinute: number;
  /** Requests all users of one customer may start per minute. */
  perCustomerPerMinute: number;
  /** Refuse new requests (503) while the JS heap is above this share of its limit (0–1). */
  shedHeapRatio: number;
}

/** Keys not seen for this long are forgotten (their bucket would be full again anyway). */
const IDLE_MS = 10 * 60_000;
const MAX_KEYS = 50_000;

class Bucket {
  tokens: number;
  constructor(
    readonly capacity: number,
    public at: number,
  ) {
    this.tokens = capacity;
  }

  refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 60_000) * this.capacity);
    this.at = now;
  }

  /** Seconds until one token is back. */
  wait(): number {
    return ((1 - this.tokens) / this.capacity) * 60;
  }
}

/**
 * Admission control in front of every authenticated API request: per-user and per-customer rate
 * (token buckets) and concurrency, so one tenant's script cannot starve the others, plus load
 * shedding near the heap limit. `admit` either returns the release function for the request's slot
 * or throws TooManyRequests / Overloaded carrying retryAfterSeconds. Time comes from `now` so the
 * limits are tested by counting, not by waiting.
 */
export class FairUse {
  private readonly buckets = new Map<string, Bucket>();
  private readonly running = new Map<string, number>();

  constructor(
    readonly limits: FairUseLimits,
    private readonly now: () => number = Date.now,
    private readonly heapRatio: () => number = currentHeapRatio,
  ) {}

  /** Before authentication: the whole server is short of memory. */
  shedIfOverloaded(): void {
    if (this.heapRatio() > this.limits.shedHeapRatio) {
      throw new DomainError('Overloaded', 'The server is busy; retry in a few seconds.', { retryAfterSeconds: 5 });
    }
  }

  admit(caller: Pick<Caller, 'userId' | 'customerId'>): () => void {
    const user = `u${caller.userId ?? `c${caller.customerId}`}`;
    const customer = `c${caller.customerId}`;
    this.assertConcurrency(user, this.limits.perUserConcurrent, 'this user');
    this.assertConcurrency(customer, this.limits.perCustomerConcurrent, 'this customer');
    const now = this.now();
    const userBucket = this.bucket(user, this.limits.perUserPerMinute, now);
    const customerBucket = this.bucket(customer, this.limits.perCustomerPerMinute, now);
    for (const [b, who] of [
      [userBucket, 'this user'],
      [customerBucket, 'this customer'],
    ] as const) {
      if (b.tokens < 1) {
        throw new DomainError('TooManyRequests', `Too many requests from ${who} (at most ${b.capacity} a minute); retry later.`, {
          retryAfterSeconds: b.wait(),
        });
      }
    }
    userBucket.tokens--;
    customerBucket.tokens--;
    this.running.set(user, (this.running.get(user) ?? 0) + 1);
    this.running.set(customer, (this.running.get(customer) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.decrement(user);
      this.decrement(customer);
    };
  }

  private assertConcurrency(key: string, max: number, who: string): void {
    if ((this.running.get(key) ?? 0) >= max) {
      throw new DomainError('TooManyRequests', `Too many requests from ${who} at once (at most ${max}); retry when one has finished.`, {
        retryAfterSeconds: 1,
      });
    }
  }

  private decrement(key: string): void {
    const n = (this.running.get(key) ?? 1) - 1;
    if (n <= 0) this.running.delete(key);
    else this.running.set(key, n);
  }

  private bucket(key: string, capacity: number, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_KEYS) this.prune(now);
      b = new Bucket(capacity, now);
      this.buckets.set(key, b);
    }
    b.refill(now);
    return b;
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (now - b.at > IDLE_MS) this.buckets.delete(key);
    // Still full of active keys: drop the oldest (their owners get a full bucket back: lenient, bounded).
    while (this.buckets.size >= MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

function currentHeapRatio(): number {
  const h = getHeapStatistics();
  return h.used_heap_size / h.heap_size_limit;
}

declare module 'fastify' {
  interface FastifyInstance {
    fairUse: FairUse;
  }
  interface FastifyRequest {
    /** Frees this request's fair-use slot early (a stream that waits rather than works); idempotent. */
    releaseFairUseSlot?: () => void;
  }
}

/**
 * Takes the caller's slot for this request (throws 429/503 errors) until its response is finished
 * or its connection closes. Admission comes after authentication, which awaits the database: a
 * client that hung up meanwhile has already closed the response, so its slot is freed at once.
 */
export function admitRequest(request: FastifyRequest, reply: FastifyReply, caller: Pick<Caller, 'userId' | 'customerId'>): void {
  request.releaseFairUseSlot?.();
  const release = request.server.fairUse.admit(caller);
  request.releaseFairUseSlot = release;
  if (reply.raw.destroyed || reply.raw.writableFinished || request.raw.socket?.destroyed !== false) release();
  else reply.raw.once('close', release);
}

export function fairUseLimitsOf(config: Config): FairUseLimits {
  return {
    perUserConcurrent: config.maxConcurrentPerUser,
    perCustomerConcurrent: config.maxConcurrentPerCustomer,
    perUserPerMinute: config.ratePerUser,
    perCustomerPerMinute: config.ratePerCustomer,
    shedHeapRatio: config.shedHeapPercent / 100,
  };
}
