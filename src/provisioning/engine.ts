/**
 * The provisioning engine: moves requests through their lifecycle on workers.
 *
 * The requests table is the queue. A request with a step to take is woken (`wake_at`); a worker
 * claims woken rows, several per round trip (`FOR UPDATE SKIP LOCKED`), each under a lease, and
 * decides what the request needs next: run its own driver work (the lease renewed while it runs,
 * outside any transaction), release its next group of children, or finish it. Each step's outcome
 * (status, entity status, log, times, children released, dependants woken) is one statement.
 * Provision/update requests do their own work before their children; de-provision/delete requests
 * after them (dependants go first). A trigger NOTIFYs the workers of every wake.
 *
 * Safety: every step, a parent's as well as a driver's, runs under a lease that only one claim can
 * hold, and its outcome is written only while that claim holds. A killed worker stops renewing; the
 * reaper wakes the request once the lease has lapsed and the next claim runs the step again
 * (drivers are idempotent, so nothing is done twice).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { engineOptionsFromEnv } from '../core/config.js';
import { openRelaxedPool, type DB } from '../core/db/database.js';
import type { AppContext } from '../core/context.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createDriver } from './drivers/registry.js';
import { TransientDriverError, type ProvisioningDriver } from './drivers/driver.js';
import { DriverConfigError } from './drivers/config.js';
import { openDriverConfig } from './driver-config.js';
import { driverDuration, secondsSince } from '../observability/metrics.js';
import {
  appendLog,
  claimRequests,
  expireLeasesOf,
  isRemoval,
  renewLease,
  wakeLapsedLeases,
  writeStep,
  stepStates,
  type ClaimedRequest,
  type EngineRequest,
  type StepState,
  type LogLine,
  type StepTime,
  type StepWrite,
} from './engine.queries.js';
import { RequestLog } from './request-log.js';
import { isBatch, openSecrets, useRequestSecretBox } from './requests.js';
import { WAKE_CHANNEL } from './schema.js';
import { buildWork, targetKey, WorkBuildError } from './task.js';
import type { DriverTarget } from './task.queries.js';
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
  /** A request waiting for an earlier tree looks again after this long, should that tree's end not wake it. */
  blockedRecheckSeconds: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  concurrency: 4,
  leaseSeconds: 60,
  maxAttempts: 5,
  backoffSeconds: 5,
  backoffMaxSeconds: 300,
  pollingIntervalSeconds: 2,
  blockedRecheckSeconds: 10,
};

const DONE: ProvisioningStatus[] = ['Provisioned', 'NotProvisioned'];

/** A claimed request with what its step depends on. */
type Step = ClaimedRequest & StepState;

type Outcome = { kind: 'done' } | { kind: 'retry'; error: string } | { kind: 'failed'; error: string };

export class ProvisioningEngine {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly drivers = new Map<string, ProvisioningDriver>();
  private readonly running = new Set<Promise<unknown>>();
  private db!: DB;
  private closePool: () => Promise<void> = async () => {};
  private unlisten: (() => Promise<void>) | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private claims = 0;
  private busy = 0;
  private claiming = false;
  private pokedWhileClaiming = false;
  private stopping = false;

  constructor(
    private readonly ctx: AppContext,
    readonly options: EngineOptions,
  ) {}

  /** Claims woken requests on notifications (polling as the fallback) and starts the lease reaper. */
  async start(): Promise<void> {
    useRequestSecretBox(this.ctx.secrets);
    const pool = openRelaxedPool(this.ctx.database, this.options.concurrency + 2);
    this.db = pool.db;
    this.closePool = pool.close;
    this.unlisten = await this.ctx.database.raw.listen(WAKE_CHANNEL, () => this.poke());
    this.poller = setInterval(() => this.poke(), Math.max(100, this.options.pollingIntervalSeconds * 1000));
    const every = Math.max(250, (this.options.leaseSeconds * 1000) / 2);
    this.reaper = setInterval(() => void this.track(this.reap()), every);
    void this.track(this.reap());
    this.poke();
    this.ctx.logger.info({ worker: this.workerId, concurrency: this.options.concurrency }, 'provisioning workers started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reaper);
    clearInterval(this.poller);
    await this.unlisten?.().catch((e) => this.ctx.logger.warn({ err: e }, 'provisioning: unlisten failed'));
    this.unlisten = undefined;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    for (const driver of this.drivers.values()) await driver.close?.().catch(() => undefined);
    this.drivers.clear();
    await this.closePool();
  }

  /**
   * Ends this worker's leases at once (a shutdown whose grace period ran out): the next start,
   * or another worker, runs those requests again without waiting for the lease to lapse.
   */
  async releaseLeases(): Promise<void> {
    await expireLeasesOf(this.ctx.db, this.workerId);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  /** Something was woken (or a step ended): claim into the free slots; one claim statement at a time per process. */
  private poke(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.pokedWhileClaiming = true;
      return;
    }
    this.claiming = true;
    void this.track(this.fill()).finally(() => (this.claiming = false));
  }

  private async fill(): Promise<void> {
    try {
      do {
        this.pokedWhileClaiming = false;
        for (;;) {
          const free = this.options.concurrency - this.busy;
          if (free <= 0 || this.stopping) return;
          const claimed = await claimRequests(this.db, this.nextToken(), this.options.leaseSeconds, free);
          this.busy += claimed.length;
          const states = await stepStates(
            this.db,
            claimed.map((r) => r.id),
          ).catch((e: unknown) => {
            // The claims lapse and the reaper wakes them again.
            this.busy -= claimed.length;
            throw e;
          });
          for (const r of claimed) {
            void this.track(this.step({ ...r, ...states.get(r.id)! })).finally(() => {
              this.busy--;
              this.poke();
            });
          }
          if (claimed.length < free) break;
        }
      } while (this.pokedWhileClaiming);
    } catch (e) {
      if (!this.stopping) this.ctx.logger.warn({ err: e }, 'provisioning: claiming requests failed');
    }
  }

  /** One claim statement's token; every request it claims carries it as its lease owner. */
  private nextToken(): string {
    return `${this.workerId}/${++this.claims}`;
  }

  /** Takes one step of a claimed request; errors are logged, and the lease brings the request back. */
  private async step(r: Step): Promise<void> {
    try {
      const notes = new Notes();
      if (r.lapsed_owner !== null)
        notes.log('warning', `Worker ${workerOf(r.lapsed_owner)} stopped renewing its lease; running the request again`);
      // An earlier tree is still changing this entity or one it depends on; its end wakes us. Its end
      // can miss us, though: the statement that ends it picks the waiters to wake from a snapshot
      // taken when it started, which may predate this request's commit while our blocker check ran
      // before that end committed. So a blocked request also looks again on its own.
      if (r.blocker !== null) {
        return void (await this.write(r, { wakeInSeconds: this.options.blockedRecheckSeconds, lines: notes.lines, times: [] }));
      }
      const ownPending = !isBatch(r.desired) && !r.own_done;
      if (ownPending && (!isRemoval(r.action) || r.children.every((c) => DONE.includes(c.status)))) {
        await this.runOwnWork(r, notes);
        return;
      }
      await this.write(r, this.progress(r, notes));
    } catch (e) {
      this.ctx.logger.warn({ err: e, request: r.id }, 'provisioning: a step failed; the request runs again when its lease lapses');
    }
  }

  /** Writes a step's outcome while our claim holds; false when the claim had passed to another worker. */
  private write(r: EngineRequest, w: StepWrite): Promise<boolean> {
    return writeStep(this.db, r, r.lease_owner!, w);
  }

  /** The request's own work is done (or it has none): release its next children, or end it. */
  private progress(r: Step, notes: Notes, extra: Partial<StepWrite> = {}): StepWrite {
    const failed = r.children.find((c) => c.status === 'Failed');
    if (failed) return this.fail(r, `Child request ${failed.id} failed: ${failed.error ?? 'unknown error'}`, notes, extra);
    const open = r.children.filter((c) => !DONE.includes(c.status));
    if (open.length === 0) return this.complete(r, notes, extra);
    const next = Math.min(...open.map((c) => c.sequence));
    const release = open.filter((c) => c.sequence === next && c.status === 'Pending');
    return { ...extra, ...(r.status === 'Requested' ? this.started(r, notes) : {}), release, lines: notes.lines, times: notes.times };
  }

  /** First pickup: the request and its entity show InProgress, and the time spent waiting in the queue is recorded. */
  private started(r: EngineRequest, notes: Notes): Partial<StepWrite> {
    notes.time({ step: 'queued', startedAt: r.created_at, durationMs: Date.now() - r.created_at.getTime() });
    return {
      status: 'InProgress',
      started: true,
      ...(isBatch(r.desired) ? {} : { entityStatus: { status: 'InProgress' as const } }),
    };
  }

  private async runOwnWork(r: Step, notes: Notes): Promise<void> {
    const attempt = r.attempts + 1;
    notes.log('verbose', `Attempt ${attempt} of ${this.options.maxAttempts} on worker ${this.workerId}`);
    const claimed = await this.write(r, {
      ...(r.status === 'Requested' ? this.started(r, notes) : {}),
      attempts: attempt,
      keepLease: true,
      lines: notes.lines,
      times: notes.times,
    });
    if (!claimed) return;
    const log = new RequestLog();
    const token = r.lease_owner!;
    const heartbeat = setInterval(
      () => {
        void renewLease(this.db, r.id, token, this.options.leaseSeconds).catch((e) =>
          this.ctx.logger.warn({ err: e, request: r.id }, 'lease renewal failed'),
        );
      },
      (this.options.leaseSeconds * 1000) / 3,
    );
    let outcome: Outcome;
    try {
      outcome = await log.step('driver', () => this.runDrivers(r, attempt, log));
    } catch (e) {
      outcome = this.classify(e, attempt);
    } finally {
      clearInterval(heartbeat);
    }
    const after = new Notes(log);
    const written = await this.write(r, this.afterOwnWork({ ...r, status: 'InProgress', attempts: attempt }, attempt, outcome, after));
    if (!written) {
      // Our lease lapsed and another worker took over: its attempt decides the outcome.
      await appendLog(this.db, r.id, [
        {
          at: new Date(),
          level: 'warning',
          message: `Attempt ${attempt} finished after its lease had passed to another worker; its result is ignored`,
        },
      ]);
    }
  }

  private afterOwnWork(r: Step, attempt: number, outcome: Outcome, notes: Notes): StepWrite {
    if (outcome.kind === 'done') return this.progress({ ...r, own_done: true }, notes, { ownDone: true });
    if (outcome.kind === 'retry') {
      const delay = Math.min(this.options.backoffMaxSeconds, this.options.backoffSeconds * 2 ** (attempt - 1));
      notes.log('warning', `Attempt ${attempt} failed: ${outcome.error}; retrying in ${delay} s`);
      return { wakeInSeconds: delay, lines: notes.lines, times: notes.times };
    }
    return this.fail(r, outcome.error, notes);
  }

  private async runDrivers(r: EngineRequest, attempt: number, log: RequestLog): Promise<Outcome> {
    const work = await buildWork(this.db, r, attempt, openSecrets(r.secret));
    if (work.skip) {
      log.info(work.skip);
      return { kind: 'done' };
    }
    for (const target of work.targets) {
      const started = performance.now();
      try {
        await this.driverFor(target).run(work.task, log);
        driverDuration.observe({ driver: target.driver, outcome: 'ok' }, secondsSince(started));
      } catch (e) {
        driverDuration.observe(
          { driver: target.driver, outcome: e instanceof TransientDriverError ? 'retry' : 'failed' },
          secondsSince(started),
        );
        throw e;
      }
    }
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

  /** A finished request lets its parent move on, and the requests of later trees that waited for it. */
  private fail(r: EngineRequest, error: string, notes: Notes, extra: Partial<StepWrite> = {}): StepWrite {
    notes.log('error', error);
    return {
      ...extra,
      status: 'Failed',
      error,
      ended: true,
      ...(isBatch(r.desired) ? {} : { entityStatus: { status: 'Failed' as const } }),
      wakeDependants: true,
      lines: notes.lines,
      times: notes.times,
    };
  }

  private complete(r: EngineRequest, notes: Notes, extra: Partial<StepWrite> = {}): StepWrite {
    const status: ProvisioningStatus = isRemoval(r.action) ? 'NotProvisioned' : 'Provisioned';
    notes.log('info', `Request completed: ${status}`);
    notes.time({ step: 'total', startedAt: r.created_at, durationMs: Date.now() - r.created_at.getTime() });
    return {
      ...extra,
      status,
      error: null,
      ended: true,
      ...(r.status === 'Requested' ? { started: true } : {}),
      // A later request for the same entity already set its status; do not report this one over it.
      ...(isBatch(r.desired) ? {} : { entityStatus: { status, unlessRunning: true } }),
      wakeDependants: true,
      lines: notes.lines,
      times: notes.times,
    };
  }

  /** Wakes requests whose claim lapsed (a killed or hung worker, in any step); sweeps approvals' time limits. */
  private async reap(): Promise<void> {
    try {
      await expireApprovals(this.ctx.db, new Date());
      const lapsed = await wakeLapsedLeases(this.db);
      if (lapsed.length) this.ctx.logger.info({ requests: lapsed }, 'provisioning: woke requests whose lease lapsed');
    } catch (e) {
      this.ctx.logger.warn({ err: e }, 'provisioning: lease reaper failed');
    }
  }
}

/** The worker of a claim token (`${workerId}/n`). */
function workerOf(token: string): string {
  return token.replace(/\/\d+$/, '');
}

/** Log lines and step times of one step, written with its outcome. */
class Notes {
  readonly lines: LogLine[];
  readonly times: StepTime[];

  constructor(from?: RequestLog) {
    this.lines = [...(from?.lines ?? [])];
    this.times = [...(from?.times ?? [])];
  }

  log(level: LogLine['level'], message: string): void {
    this.lines.push({ at: new Date(), level, message });
  }

  time(t: StepTime): void {
    this.times.push(t);
  }
}

/** Starts the engine with options from the environment over the defaults. */
export async function startProvisioningEngine(ctx: AppContext, options: Partial<EngineOptions> = {}): Promise<ProvisioningEngine> {
  const engine = new ProvisioningEngine(ctx, { ...DEFAULT_ENGINE_OPTIONS, ...engineOptionsFromEnv(), ...options });
  await engine.start();
  return engine;
}
