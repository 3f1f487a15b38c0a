import net from 'node:net';
import path from 'node:path';
import { FORWARDED_ENV } from './scope.js';

/** The server's command socket in the data directory; only the directory's owner can connect (mode 0600). */
export const SOCKET_FILE = 'tenantry.sock';

export function commandSocketPath(dataDir: string): string {
  return path.join(dataDir, SOCKET_FILE);
}

/** What the client sends first: the command line and what the command may need of its terminal. */
export interface CommandRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdinIsTTY: boolean;
  columns: number | undefined;
}

/** Frames on the socket, one JSON object a line. */
export type ServerFrame = { t: 'out' | 'err'; d: string } | { t: 'stdin' } | { t: 'exit'; code: number };
export type ClientFrame = { t: 'in'; d: string } | { t: 'end' };

/**
 * Commands that never go to a running server: they are the server (start, workers) or replace
 * its database or key (restore, rotate-key). Bare `tenantry`, `--help` and `--version` answer locally and fast.
 */
export function runsOnServer(argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith('-'));
  const [first, second] = words;
  if (first === undefined) return false;
  if (first === 'start' || first === 'worker' || first === 'restore' || first === 'rotate-key') return false;
  return !(first === 'jobs' && second === 'worker');
}

/**
 * Runs the command line on the server listening in dataDir and relays its output, standard input
 * (only when the command reads it) and exit code. Undefined when no server is listening there.
 */
export function forwardToServer(argv: string[], dataDir: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(commandSocketPath(dataDir));
    let connected = false;
    let exitCode: number | undefined;
    socket.once('error', () => {
      if (!connected) resolve(undefined);
    });
    socket.once('connect', () => {
      connected = true;
      socket.on('error', () => undefined);
      const env = Object.fromEntries(FORWARDED_ENV.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));
      const request: CommandRequest = {
        argv,
        cwd: process.cwd(),
        env,
        stdinIsTTY: Boolean(process.stdin.isTTY),
        columns: process.stdout.columns,
      };
      socket.write(`${JSON.stringify(request)}\n`);
    });
    const send = (frame: ClientFrame) => socket.writable && socket.write(`${JSON.stringify(frame)}\n`);
    readFrames<ServerFrame>(socket, (frame) => {
      if (frame.t === 'out') process.stdout.write(frame.d);
      else if (frame.t === 'err') process.stderr.write(frame.d);
      else if (frame.t === 'exit') exitCode = frame.code;
      else if (frame.t === 'stdin') {
        process.stdin.on('data', (d: Buffer) => send({ t: 'in', d: d.toString('base64') }));
        process.stdin.once('end', () => send({ t: 'end' }));
      }
    });
    socket.once('close', () => {
      if (!connected) return;
      process.stdin.destroy();
      if (exitCode === undefined) process.stderr.write('tenantry: the server closed the connection before the command finished\n');
      resolve(exitCode ?? 1);
    });
  });
}

/** A frame larger than this is not a terminal's traffic: the connection is dropped. */
const MAX_FRAME = 4 * 1024 * 1024;

/** Calls onFrame for each newline-terminated JSON frame on the socket; a malformed frame ends the connection. */
export function readFrames<T>(socket: net.Socket, onFrame: (frame: T) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        if (line) onFrame(JSON.parse(line) as T);
      } catch {
        return void socket.destroy();
      }
    }
    if (buffered.length > MAX_FRAME) socket.destroy();
  });
}
