/**
 * The provisioning engine: moves requests through their lifecycle on queue workers.
 *
 * A job only says "look at request N". Under a row lock the engine decides what the request needs
 * next: run its own driver work (under a lease, outside any transaction), release its next group
 * of children, or finish it. Provision/update requests do their own work before their children;
 * de-provision/delete requests after them (dependants go first).
 *
 * Safety: the decision is taken under `SELECT … FOR UPDATE`, so two workers never decide for one
 * request at once, and driver work needs a lease (renewed while it runs) that only one worker can
 * hold. A killed worker stops renewing; the reaper re-queues the request once the lease expires and
 * the next attempt runs the driver again (drivers are idempotent, so nothing is done twice).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import os from 'node:os';
import { inTransaction, type Tx } from '../core/db/database.js';
import { Queue } from '../core/queue.js';
import type { AppContext } from '../core/context.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createDriver } from './drivers/registry.js';
import { TransientDriverError, type ProvisioningDriver } from './drivers/driver.js';
import { DriverConfigError } from './drivers/config.js';
import { openDriverConfig } from './driver-config.js';
import { setEntityStatus } from './entity-status.queries.js';
import {
  appendLog, appendTimes, childStates, dropLease, endRequest, expiredLeases, findBlocker, findWaiters,
  isRemoval, leaseExpired, lockRequest, markStarted, releaseChildren, renewLease, setOwnDone, staleRequested, takeLease,
  type EngineRequest, type LogLine, type StepTime,
} from './engine.queries.js';
import { enqueueRequest, PROVISIONING_QUEUE, type RequestJob } from './request-queue.js';
import { RequestLog } from './request-log.js';
import { isBatch, openSecrets, useRequestSecretBox } from './requests.js';
import { buildWork, targetKey, WorkBuildError, type DriverTarget } from './task.js';
import { expireApprovals } from '../approvals/expire-approvals.js';

export interface EngineOptions {
  /** Requests run at once in this process. */
  concurrency: number;
  /** How long a worker may go without renewing its lease before others take the request over. */
  leaseSeconds: number;
  /** Driver attempts per request (transient faults retry until this many). */
  maxAttempts: number;
  /** First retry delay; doubles per attempt up to backoffMaxSeconds. */
  backoffSeconds: number;
  backoffMaxSeconds: number;
  /** Fallback polling (notifications wake workers at once). */
  pollingIntervalSeconds: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  concurrency: 4,
  leaseSeconds: 60,
  maxAttempts: 5,
  backoffSeconds: 5,
  backoffMaxSeconds: 300,
  pollingIntervalSeconds: 2,
};

const ENV_OPTIONS: Record<string, keyof EngineOptions> = {
  TENANTRY_PROVISIONING_CONCURRENCY: 'concurrency',
  TENANTRY_PROVISIONING_LEASE_SECONDS: 'leaseSeconds',
  TENANTRY_PROVISIONING_MAX_ATTEMPTS: 'maxAttempts',
  TENANTRY_PROVISIONING_BACKOFF_SECONDS: 'backoffSeconds',
  TENANTRY_PROVISIONING_BACKOFF_MAX_SECONDS: 'backoffMaxSeconds',
  TENANTRY_PROVISIONING_POLL_SECONDS: 'pollingIntervalSeconds',
};

/** Engine tuning from TENANTRY_PROVISIONING_* variables (positive numbers). */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<EngineOptions> {
  const options: Partial<EngineOptions> = {};
  for (const [name, key] of Object.entries(ENV_OPTIONS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    options[key] = value;
  }
  return options;
}

const DONE: ProvisioningStatus[] = ['Provisioned', 'NotProvisioned'];
const TERMINAL: ProvisioningStatus[] = ['Provisioned', 'NotProvisioned', 'Failed'];
const WAKE_LIMIT = 1000;

interface Claim {
  request: EngineRequest;
  attempt: number;
}

type Outcome = { kind: 'done' } | { kind: 'retry'; error: string } | { kind: 'failed'; error: string };

export class ProvisioningEngine {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly drivers = new Map<string, ProvisioningDriver>();
  private reaper: NodeJS.Timeout | undefined;
  private queue: Queue | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly ctx: AppContext,
    readonly options: EngineOptions,
  ) {}

  /** Starts workers on the provisioning queue and the lease reaper. */
  async start(): Promise<void> {
    useRequestSecretBox(this.ctx.secrets);
    this.queue = await Queue.start(this.ctx.database, { logger: this.ctx.logger, pollingIntervalSeconds: this.options.pollingIntervalSeconds });
    await this.queue.ensureQueue(PROVISIONING_QUEUE);
    await this.queue.work<RequestJob>(PROVISIONING_QUEUE.name, { concurrency: this.options.concurrency }, (job) => this.track(this.handle(job.data.requestId)));
    const every = Math.max(250, (this.options.leaseSeconds * 1000) / 2);
    this.reaper = setInterval(() => void this.track(this.reap()), every);
    void this.track(this.reap());
    this.ctx.logger.info({ worker: this.workerId, concurrency: this.options.concurrency }, 'provisioning workers started');
  }

  async stop(): Promise<void> {
    clearInterval(this.reaper);
    await this.queue?.stop();
    await Promise.allSettled([...this.running]);
    for (const driver of this.drivers.values()) await driver.close?.().catch(() => undefined);
    this.drivers.clear();
  }

  /**
   * On a PostgreSQL server the engine's own transactions commit without waiting for the WAL
   * flush: a killed worker loses nothing (the server keeps its commits), and after a server crash
   * a lost step is repeated (pg-boss re-delivers the job when it expires; drivers are idempotent).
   * Embedded PGlite dies with its process, so there every commit is flushed.
   */
  private async relaxCommit(tx: Tx): Promise<void> {
    if (this.ctx.database.engine === 'postgres') await sql`set local synchronous_commit = off`.execute(tx);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  /** Moves one request forward; exported for tests and the CLI's synchronous paths. */
  async handle(requestId: number): Promise<void> {
    const claim = await inTransaction(this.ctx.db, async (tx) => {
      await this.relaxCommit(tx);
      return this.advance(tx, requestId);
    });
    if (claim) await this.runOwnWork(claim);
  }

  private async advance(tx: Tx, id: number): Promise<Claim | undefined> {
    const r = await lockRequest(tx, id);
    if (!r || TERMINAL.includes(r.status) || r.status === 'Pending') return undefined;
    const expired = leaseExpired(r, new Date());
    // A live lease: its holder finishes the work and moves the request on itself.
    if (r.lease_until !== null && !expired) return undefined;
    // An earlier tree is still changing this entity or one it depends on; its end wakes us.
    if ((await findBlocker(tx, r)) !== undefined) return undefined;
    const notes = new Notes(r.id);
    if (expired) {
      notes.log('warning', `Worker ${r.lease_owner} stopped renewing its lease; running the request again`);
      await dropLease(tx, r.id);
    }
    const claim = await this.progress(tx, { ...r, lease_owner: null, lease_until: null }, notes);
    await notes.flush(tx);
    return claim;
  }

  private async progress(tx: Tx, r: EngineRequest, notes: Notes): Promise<Claim | undefined> {
    const children = await childStates(tx, r.id);
    const childrenFirst = isRemoval(r.action);
    const ownPending = !isBatch(r.desired) && !r.own_done;
    if (ownPending && (!childrenFirst || children.every((c) => DONE.includes(c.status)))) return this.claim(tx, r, notes);
    const failed = children.find((c) => c.status === 'Failed');
    if (failed) {
      await this.fail(tx, r, `Child request ${failed.id} failed: ${failed.error ?? 'unknown error'}`, notes);
      return undefined;
    }
    const open = children.filter((c) => !DONE.includes(c.status));
    if (open.length === 0) {
      await this.complete(tx, r, notes);
      return undefined;
    }
    if (r.status === 'Requested') {
      await markStarted(tx, r.id);
      await this.started(tx, r, notes);
    }
    const next = Math.min(...open.map((c) => c.sequence));
    const released = await releaseChildren(tx, open.filter((c) => c.sequence === next && c.status === 'Pending').map((c) => c.id));
    for (const child of released) {
      await setEntityStatus(tx, child.entity, child.entity_id, 'Requested', { action: child.action });
      await enqueueRequest(tx, child.id);
    }
    return undefined;
  }

  /** First pickup: the entity shows InProgress, and the time spent waiting in the queue is recorded. */
  private async started(tx: Tx, r: EngineRequest, notes: Notes): Promise<void> {
    if (!isBatch(r.desired)) await setEntityStatus(tx, r.entity, r.entity_id, 'InProgress', { action: r.action });
    notes.time({ step: 'queued', startedAt: r.created_at, durationMs: Date.now() - r.created_at.getTime() });
  }

  private async claim(tx: Tx, r: EngineRequest, notes: Notes): Promise<Claim> {
    const attempt = r.attempts + 1;
    await takeLease(tx, r.id, this.workerId, this.options.leaseSeconds, attempt);
    if (r.status === 'Requested') await this.started(tx, r, notes);
    notes.log('verbose', `Attempt ${attempt} of ${this.options.maxAttempts} on worker ${this.workerId}`);
    return { request: r, attempt };
  }

  private async runOwnWork(claim: Claim): Promise<void> {
    const log = new RequestLog();
    const r = claim.request;
    const heartbeat = setInterval(() => {
      void renewLease(this.ctx.db, r.id, this.workerId, this.options.leaseSeconds).catch((e) => this.ctx.logger.warn({ err: e, request: r.id }, 'lease renewal failed'));
    }, (this.options.leaseSeconds * 1000) / 3);
    let outcome: Outcome;
    try {
      outcome = await log.step('driver', () => this.runDrivers(r, claim.attempt, log));
    } catch (e) {
      outcome = this.classify(e, claim.attempt);
    } finally {
      clearInterval(heartbeat);
    }
    await inTransaction(this.ctx.db, async (tx) => {
      await this.relaxCommit(tx);
      const notes = new Notes(claim.request.id, log);
      await this.finishOwnWork(tx, claim, outcome, notes);
      await notes.flush(tx);
    });
  }

  private async runDrivers(r: EngineRequest, attempt: number, log: RequestLog): Promise<Outcome> {
    const work = await buildWork(this.ctx.db, r, attempt, openSecrets(r.secret));
    if (work.skip) {
      log.info(work.skip);
      return { kind: 'done' };
    }
    for (const target of work.targets) await this.driverFor(target).run(work.task, log);
    return { kind: 'done' };
  }

  private classify(e: unknown, attempt: number): Outcome {
    const error = (e as Error)?.message ?? String(e);
    if (e instanceof TransientDriverError && attempt < this.options.maxAttempts) return { kind: 'retry', error };
    if (e instanceof TransientDriverError) return { kind: 'failed', error: `${error} (gave up after ${attempt} attempts)` };
    if (!(e instanceof DriverConfigError) && !(e instanceof WorkBuildError)) this.ctx.logger.debug({ err: e }, 'driver failed');
    return { kind: 'failed', error };
  }

  private driverFor(target: DriverTarget): ProvisioningDriver {
    const key = targetKey(target);
    let driver = this.drivers.get(key);
    if (!driver) {
      driver = createDriver(target.driver, openDriverConfig(this.ctx.secrets, target.driver, target.config));
      this.drivers.set(key, driver);
    }
    return driver;
  }

  private async finishOwnWork(tx: Tx, claim: Claim, outcome: Outcome, notes: Notes): Promise<void> {
    const r = await lockRequest(tx, claim.request.id);
    if (!r) return;
    if (r.lease_owner !== this.workerId || r.attempts !== claim.attempt) {
      // Our lease expired and another worker took over: its attempt decides the outcome.
      notes.log('warning', `Attempt ${claim.attempt} finished after its lease had passed to another worker; its result is ignored`);
      notes.dropTimes();
      return;
    }
    if (outcome.kind === 'done') {
      await setOwnDone(tx, r.id);
      await this.progress(tx, { ...r, own_done: true }, notes);
      return;
    }
    if (outcome.kind === 'retry') {
      const delay = Math.min(this.options.backoffMaxSeconds, this.options.backoffSeconds * 2 ** (claim.attempt - 1));
      notes.log('warning', `Attempt ${claim.attempt} failed: ${outcome.error}; retrying in ${delay} s`);
      await dropLease(tx, r.id);
      await enqueueRequest(tx, r.id, delay);
      return;
    }
    await this.fail(tx, r, outcome.error, notes);
  }

  private async fail(tx: Tx, r: EngineRequest, error: string, notes: Notes): Promise<void> {
    await endRequest(tx, r.id, { status: 'Failed', error });
    notes.log('error', error);
    if (!isBatch(r.desired)) await setEntityStatus(tx, r.entity, r.entity_id, 'Failed', { action: r.action });
    await this.wake(tx, r);
  }

  private async complete(tx: Tx, r: EngineRequest, notes: Notes): Promise<void> {
    const status: ProvisioningStatus = isRemoval(r.action) ? 'NotProvisioned' : 'Provisioned';
    await endRequest(tx, r.id, { status, error: null });
    notes.log('info', `Request completed: ${status}`);
    notes.time({ step: 'total', startedAt: r.created_at, durationMs: Date.now() - r.created_at.getTime() });
    // A later request for the same entity already set its status; do not report this one over it.
    if (!isBatch(r.desired)) {
      await setEntityStatus(tx, r.entity, r.entity_id, status, { action: r.action, unlessRunning: { key: r.entity_key, exceptId: r.id } });
    }
    await this.wake(tx, r);
  }

  /** A finished request lets its parent move on, and the requests of later trees that waited for it. */
  private async wake(tx: Tx, r: EngineRequest): Promise<void> {
    if (r.parent_id !== null) await enqueueRequest(tx, r.parent_id);
    for (const id of await findWaiters(tx, r, WAKE_LIMIT)) await enqueueRequest(tx, id);
  }

  /** Re-queues requests whose worker stopped renewing its lease, and requests whose wake-up was lost. */
  private async reap(): Promise<void> {
    try {
      await expireApprovals(this.ctx.db, new Date());
      const expired = await expiredLeases(this.ctx.db, 100);
      const stale = await staleRequested(this.ctx.db, this.options.leaseSeconds, 100);
      if (expired.length === 0 && stale.length === 0) return;
      await inTransaction(this.ctx.db, async (tx) => {
        for (const id of new Set([...expired, ...stale])) await enqueueRequest(tx, id);
      });
      if (expired.length) this.ctx.logger.info({ requests: expired }, 'provisioning: re-queued requests with expired leases');
    } catch (e) {
      this.ctx.logger.warn({ err: e }, 'provisioning: lease reaper failed');
    }
  }
}

/** Log lines and step times of one request, written with one insert each when the transaction ends. */
class Notes {
  private readonly lines: LogLine[];
  private times: StepTime[];

  constructor(
    private readonly requestId: number,
    from?: RequestLog,
  ) {
    this.lines = [...(from?.lines ?? [])];
    this.times = [...(from?.times ?? [])];
  }

  log(level: LogLine['level'], message: string): void {
    this.lines.push({ at: new Date(), level, message });
  }

  time(t: StepTime): void {
    this.times.push(t);
  }

  dropTimes(): void {
    this.times = [];
  }

  async flush(tx: Tx): Promise<void> {
    await appendLog(tx, this.requestId, this.lines);
    await appendTimes(tx, this.requestId, this.times);
  }
}

/** Starts the engine with options from the environment over the defaults. */
export async function startProvisioningEngine(ctx: AppContext, options: Partial<EngineOptions> = {}): Promise<ProvisioningEngine> {
  const engine = new ProvisioningEngine(ctx, { ...DEFAULT_ENGINE_OPTIONS, ...engineOptionsFromEnv(), ...options });
  await engine.start();
  return engine;
}
