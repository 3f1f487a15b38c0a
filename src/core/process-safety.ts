import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from './logger.js';

/**
 * The rule for long-running processes (server, worker): background loops catch and log their own
 * failures and carry on; anything that still escapes (an uncaught exception, a rejected promise no
 * one awaited) leaves the process in an unknown state, so it is logged and the process exits
 * non-zero for its supervisor to restart it. Never half-alive.
 */
export function exitOnUnhandledErrors(logger: Logger): void {
  const fatal = (kind: string) => (error: unknown) => {
    try {
      logger.fatal(
        { err: error instanceof Error ? error : new Error(String(error)) },
        `${kind}: exiting so that a supervisor restarts the process`,
      );
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
}

const APPLIED = 'TENANTRY_HEAP_LIMIT_APPLIED';

/**
 * A heap limit can only be set when V8 starts, so with a limit (TENANTRY_MAX_HEAP_MB) this process runs
 * the same command again in a child with `--max-old-space-size`, passes signals on, and exits with
 * the child's code. Resolves false (carry on here) when no limit is set or this is that child.
 */
export async function relaunchWithHeapLimit(mb: number | undefined, logger: Logger): Promise<boolean> {
  if (mb === undefined || process.env[APPLIED] === String(mb)) return false;
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${mb}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [APPLIED]: String(mb) },
  });
  logger.debug({ mb, pid: child.pid }, 'running with the configured heap limit');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 128 + 15 : 1))));
  process.exit(code);
}

/** The heap limit V8 is running with, in MB (reflects --max-old-space-size however it was given). */
export function heapLimitMb(): number {
  return Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024);
}
