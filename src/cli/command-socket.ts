import fs from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { format } from 'node:util';
import type { AppContext } from '../core/context.js';
import { commandSocketPath, readFrames, type ClientFrame, type CommandRequest, type ServerFrame } from './client.js';
import { runCli } from './program.js';
import { remoteCommand, type RemoteCommand } from './scope.js';

/**
 * The server side of the CLI socket: each connection carries one command line, which runs here,
 * inside the server, through the same commander program and the same domain calls as a CLI
 * process would use (the embedded database has one writer: this process).
 */
export interface CommandSocket {
  /** Takes no new commands; commands waiting for Ctrl-C end, the others finish. */
  stop(): Promise<void>;
  /** Drops every connection at once (the shutdown's grace period is over). */
  abort(): void;
}

export async function startCommandSocket(ctx: AppContext): Promise<CommandSocket> {
  routeTerminalStreams();
  const file = commandSocketPath(ctx.config.dataDir);
  // This process holds the data directory's lock: a socket file left there belongs to a dead server.
  fs.rmSync(file, { force: true });
  const running = new Set<Promise<void>>();
  const connections = new Map<AbortController, net.Socket>();
  const server = net.createServer((socket) => {
    const aborted = new AbortController();
    connections.set(aborted, socket);
    const done = serve(ctx, socket, aborted).finally(() => {
      connections.delete(aborted);
      running.delete(done);
    });
    running.add(done);
  });
  // Owner-only from the moment the socket exists: the umask covers the bind, chmod makes it explicit.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  fs.chmodSync(file, 0o600);
  return {
    async stop() {
      server.close();
      for (const c of connections.keys()) c.abort();
      await Promise.allSettled([...running]);
      fs.rmSync(file, { force: true });
    },
    abort() {
      for (const socket of connections.values()) socket.destroy();
      fs.rmSync(file, { force: true });
    },
  };
}

async function serve(ctx: AppContext, socket: net.Socket, aborted: AbortController): Promise<void> {
  const send = (frame: ServerFrame) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
  };
  let requested = false;
  const stdin = new Readable({
    read() {
      if (requested) return;
      requested = true;
      send({ t: 'stdin' });
    },
  });
  const request = await new Promise<CommandRequest | undefined>((resolve) => {
    let first = true;
    socket.once('close', () => {
      aborted.abort();
      stdin.push(null);
      resolve(undefined);
    });
    socket.on('error', () => socket.destroy());
    readFrames<unknown>(socket, (frame) => {
      if (first) {
        first = false;
        return resolve(frame as CommandRequest);
      }
      const f = frame as ClientFrame;
      if (f.t === 'in') stdin.push(Buffer.from(f.d, 'base64'));
      else if (f.t === 'end') stdin.push(null);
    });
  });
  if (!request || !Array.isArray(request.argv) || !request.argv.every((a) => typeof a === 'string')) return void socket.destroy();
  Object.assign(stdin, { isTTY: Boolean(request.stdinIsTTY) });
  const command: RemoteCommand = {
    ctx,
    cwd: typeof request.cwd === 'string' ? request.cwd : '/',
    env: request.env && typeof request.env === 'object' ? request.env : {},
    stdin,
    stdout: relay('out', send, request.columns),
    stderr: relay('err', send, request.columns),
    exitCode: 0,
    signal: aborted.signal,
  };
  const code = await remoteCommand.run(command, () => runCli(request.argv));
  send({ t: 'exit', code: command.exitCode || code });
  socket.end();
}

function relay(t: 'out' | 'err', send: (frame: ServerFrame) => void, columns: number | undefined): Writable {
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      // Frames stay well below the client's frame limit whatever a command prints at once.
      const text = chunk.toString();
      for (let i = 0; i < text.length; i += 65536) send({ t, d: text.slice(i, i + 65536) });
      callback();
    },
  });
  return Object.assign(stream, { isTTY: false, columns });
}

let routed = false;

/**
 * Inside a remote command, console output, process.stdout/stderr and process.stdin are the
 * client's terminal; everywhere else (the server's own logs) they stay the server's.
 */
function routeTerminalStreams(): void {
  if (routed) return;
  routed = true;
  for (const name of ['stdout', 'stderr', 'stdin'] as const) {
    const own = Object.getOwnPropertyDescriptor(process, name)!;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: own.enumerable ?? true,
      get: () => remoteCommand.getStore()?.[name] ?? own.get!.call(process),
    });
  }
  const streams = { log: 'stdout', info: 'stdout', debug: 'stdout', warn: 'stderr', error: 'stderr' } as const;
  for (const [method, stream] of Object.entries(streams) as [keyof typeof streams, 'stdout' | 'stderr'][]) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const remote = remoteCommand.getStore();
      if (remote) remote[stream].write(`${format(...args)}\n`);
      else original(...args);
    };
  }
}
