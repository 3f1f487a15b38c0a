import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { AppContext } from '../core/context.js';

/**
 * A CLI command that a running server executes for a `tenantry` process in another terminal
 * (see cli/command-socket.ts). Commands reach their database, terminal, files and exit code
 * through the helpers below, so the same action runs in-process or inside the server.
 */
export interface RemoteCommand {
  ctx: AppContext;
  /** The client's working directory: relative paths on its command line mean files there. */
  cwd: string;
  /** The few variables a command reads from the client's environment (TENANTRY_NEW_PASSWORD). */
  env: Record<string, string>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  exitCode: number;
  /** Aborted when the client disconnects (Ctrl-C) or the server shuts down. */
  signal: AbortSignal;
}

export const remoteCommand = new AsyncLocalStorage<RemoteCommand>();

/** Variables a remote client forwards; nothing else of its environment reaches the server. */
export const FORWARDED_ENV = ['TENANTRY_NEW_PASSWORD'];

export function commandEnv(name: string): string | undefined {
  const remote = remoteCommand.getStore();
  return remote ? remote.env[name] : process.env[name];
}

/** A path from the command line, resolved against the directory the user ran `tenantry` in. */
export function commandPath(file: string): string {
  return path.resolve(remoteCommand.getStore()?.cwd ?? process.cwd(), file);
}

export function setExitCode(code: number): void {
  const remote = remoteCommand.getStore();
  if (remote) remote.exitCode = code;
  else process.exitCode = code;
}

/** Resolves on Ctrl-C (or SIGTERM) of the user's `tenantry` process, wherever the command runs. */
export function untilInterrupted(): Promise<void> {
  const remote = remoteCommand.getStore();
  return new Promise<void>((resolve) => {
    if (remote) {
      if (remote.signal.aborted) return resolve();
      remote.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
