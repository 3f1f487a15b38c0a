import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';

/** Runs process-child.ts to its end; resolves with its exit code and output. */
function run(mode: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'process-child.ts'), mode], {
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('process-level safety', () => {
  it('an unhandled rejection in a background task is logged and the process exits 1 (never half-alive)', async () => {
    const { code, out } = await run('reject');
    expect(code).toBe(1);
    expect(out).toMatch(
      /"level":60.*boom in a background task.*unhandled promise rejection: exiting so that a supervisor restarts the process/,
    );
  });

  it('an uncaught exception is logged and the process exits 1', async () => {
    const { code, out } = await run('throw');
    expect(code).toBe(1);
    expect(out).toMatch(/boom in a timer.*uncaught exception/);
  });

  it('TENANTRY_MAX_HEAP_MB relaunches the process with that heap limit and passes its exit code on', async () => {
    const { code, out } = await run('heap', { TENANTRY_MAX_HEAP_MB: '200' });
    expect(code).toBe(3);
    const { heapLimitMb } = JSON.parse(out.trim().split('\n').at(-1)!);
    // V8 adds its young generation to the old-space limit.
    expect(heapLimitMb).toBeGreaterThanOrEqual(200);
    expect(heapLimitMb).toBeLessThan(300);
  });

  it('refuses a bad TENANTRY_MAX_HEAP_MB with one clear line', () => {
    expect(() => loadConfig({ TENANTRY_MAX_HEAP_MB: '64' })).toThrow(
      'TENANTRY_MAX_HEAP_MB must be a whole number of megabytes, at least 128, got "64"',
    );
    expect(() => loadConfig({ TENANTRY_SHED_HEAP_PERCENT: '5' })).toThrow(
      /TENANTRY_SHED_HEAP_PERCENT must be a percentage between 10 and 100/,
    );
    expect(() => loadConfig({ TENANTRY_RATE_PER_USER: 'lots' })).toThrow(
      'TENANTRY_RATE_PER_USER must be a whole number (0 = no limit), got "lots"',
    );
  });
});
