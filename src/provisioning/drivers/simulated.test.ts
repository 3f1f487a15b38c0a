import { describe, expect, it } from 'vitest';
import { TransientDriverError } from './driver.js';
import { DriverConfigError } from './config.js';
import { createSimulatedDriver, simulatedOutcome, type SimulatedDriverConfig } from './simulated.js';
import { recordingLog, task } from './test-fixtures.js';

const outcomes = (config: SimulatedDriverConfig, count: number) =>
  Array.from({ length: count }, (_, i) => simulatedOutcome(config, { requestId: i + 1, attempt: 1 }));

describe('simulated driver', () => {
  it('gives the same outcomes for the same seed, whatever the order', () => {
    const config = { failureRate: 0.5, seed: 42 };
    const forward = outcomes(config, 200);
    const backward = Array.from({ length: 200 }, (_, i) => simulatedOutcome(config, { requestId: 200 - i, attempt: 1 }));
    expect(backward.reverse()).toEqual(forward);
    expect(outcomes({ failureRate: 0.5, seed: 43 }, 200)).not.toEqual(forward);
  });

  it('fails at roughly the configured rate', () => {
    const failures = outcomes({ failureRate: 0.25, seed: 7 }, 4000).filter((o) => o !== 'success').length;
    expect(failures / 4000).toBeGreaterThan(0.22);
    expect(failures / 4000).toBeLessThan(0.28);
    expect(outcomes({ failureRate: 0, seed: 7 }, 100).every((o) => o === 'success')).toBe(true);
    expect(outcomes({ failureRate: 1, seed: 7 }, 100).every((o) => o !== 'success')).toBe(true);
  });

  it('draws afresh on each attempt so transient failures can clear on retry', () => {
    const config = { failureRate: 0.5, seed: 3 };
    const attempts = Array.from({ length: 20 }, (_, i) => simulatedOutcome(config, { requestId: 9, attempt: i + 1 }));
    expect(new Set(attempts).size).toBe(2);
  });

  it('succeeds after the delay and says it is a simulation', async () => {
    const driver = createSimulatedDriver({ delayMs: 30 });
    const log = recordingLog();
    const started = Date.now();
    await driver.run(task(), log);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(log.lines.every((line) => line.message.startsWith('Simulated provisioning: '))).toBe(true);
    expect(log.text()).toContain('provision customer BAC');
    expect(log.steps).toEqual(['simulated delay']);
  });

  it('throws TransientDriverError or a plain Error as configured', async () => {
    await expect(createSimulatedDriver({ failureRate: 1 }).run(task(), recordingLog())).rejects.toBeInstanceOf(TransientDriverError);
    const permanent = createSimulatedDriver({ failureRate: 1, transient: false }).run(task(), recordingLog());
    await expect(permanent).rejects.toThrow('Simulated provisioning: permanent failure of provision customer BAC');
    await expect(permanent).rejects.not.toBeInstanceOf(TransientDriverError);
  });

  it('rejects invalid config with a clear message', () => {
    expect(() => createSimulatedDriver({ failureRate: 2 })).toThrow(
      new DriverConfigError('simulated driver config: "failureRate" must be a number from 0 to 1'),
    );
    expect(() => createSimulatedDriver({ delay: 5 })).toThrow(/unknown key\(s\) "delay"/);
  });
});
