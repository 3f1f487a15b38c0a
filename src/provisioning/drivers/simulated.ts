/**
 * A stand-in driver for demos and tests: it provisions nothing, waits a configurable delay and
 * succeeds, or fails at a configurable rate. Outcomes come from a seeded PRNG keyed by
 * (seed, request id, attempt), so they are reproducible whatever order workers run tasks in,
 * and a retried request draws afresh (a transient failure can succeed on a later attempt).
 */
import { TransientDriverError, type DriverLog, type DriverTask, type ProvisioningDriver } from './driver.js';
import { ConfigReader } from './config.js';
import { taskLabel } from './task-label.js';

/** `driver_config` of a service served by the simulated driver. */
export interface SimulatedDriverConfig {
  /** Milliseconds each task takes; default 0. */
  delayMs?: number;
  /** Probability (0..1) that a task fails; default 0. */
  failureRate?: number;
  /** PRNG seed; default 1. Same seed, request id and attempt → same outcome. */
  seed?: number;
  /** Injected failures are TransientDriverError (retried) when true (default), plain Error otherwise. */
  transient?: boolean;
}

export type SimulatedOutcome = 'success' | 'transient-failure' | 'permanent-failure';

const MAX_DELAY_MS = 600_000;

export function parseSimulatedConfig(raw: Record<string, unknown>): SimulatedDriverConfig {
  const reader = new ConfigReader('simulated', raw);
  reader.allowOnly(['delayMs', 'failureRate', 'seed', 'transient']);
  return {
    delayMs: reader.optionalInteger('delayMs', 0, MAX_DELAY_MS),
    failureRate: reader.optionalNumber('failureRate', 0, 1),
    seed: reader.optionalInteger('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    transient: reader.optionalBoolean('transient'),
  };
}

/** mulberry32: tiny, fast, well distributed; plenty for failure injection. */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes the seed with the task's identity (FNV-1a over the three numbers). */
function taskState(seed: number, requestId: number, attempt: number): number {
  let hash = 0x811c9dc5;
  for (const value of [seed, requestId, attempt]) {
    for (const byte of String(value)) {
      hash = Math.imul(hash ^ byte.charCodeAt(0), 0x01000193) >>> 0;
    }
    hash = Math.imul(hash ^ 0x2c, 0x01000193) >>> 0;
  }
  return hash;
}

/** The outcome the simulated driver will produce for one attempt of one request. */
export function simulatedOutcome(config: SimulatedDriverConfig, task: Pick<DriverTask, 'requestId' | 'attempt'>): SimulatedOutcome {
  const failureRate = config.failureRate ?? 0;
  if (failureRate <= 0) return 'success';
  const draw = mulberry32(taskState(config.seed ?? 1, task.requestId, task.attempt))();
  if (draw >= failureRate) return 'success';
  return config.transient === false ? 'permanent-failure' : 'transient-failure';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SimulatedDriver implements ProvisioningDriver {
  readonly name = 'simulated';

  constructor(private readonly config: SimulatedDriverConfig = {}) {}

  async run(task: DriverTask, log: DriverLog): Promise<void> {
    const label = taskLabel(task);
    const delayMs = this.config.delayMs ?? 0;
    log.info(`Simulated provisioning: ${label} (no real system is changed)`);
    await log.step('simulated delay', () => sleep(delayMs));
    const outcome = simulatedOutcome(this.config, task);
    if (outcome === 'transient-failure') {
      log.warning(`Simulated provisioning: injected transient failure on attempt ${task.attempt}`);
      throw new TransientDriverError(`Simulated provisioning: transient failure of ${label}`);
    }
    if (outcome === 'permanent-failure') {
      log.warning('Simulated provisioning: injected permanent failure');
      throw new Error(`Simulated provisioning: permanent failure of ${label}`);
    }
    log.info(`Simulated provisioning: ${label} done after ${delayMs} ms`);
  }
}

export function createSimulatedDriver(raw: Record<string, unknown>): SimulatedDriver {
  return new SimulatedDriver(parseSimulatedConfig(raw));
}
