import net from 'node:net';
import type { Config } from './core/config.js';
import { openRuntime } from './core/runtime.js';
import type { buildServer } from './api/server.js';
import { printAdminPassword } from './cli/context.js';
import { startCommandSocket } from './cli/command-socket.js';
import { COMMAND_GROUPS } from './cli/program.js';
import type { AppContext } from './core/context.js';
import { createLogger } from './core/logger.js';
import { exitOnUnhandledErrors, heapLimitMb, relaunchWithHeapLimit } from './core/process-safety.js';

/** A background service started with the server (provisioning workers, job scheduler, …). */
export interface RunningService {
  /** Stops taking work and waits for the work in hand. */
  stop(): Promise<void>;
  /** After the grace period: hand unfinished work back at once (leases end now). */
  releaseLeases?(): Promise<void>;
}
export type BackgroundService = (ctx: AppContext) => Promise<RunningService>;
const BACKGROUND_SERVICES: (() => Promise<BackgroundService>)[] = [
  async () => (await import('./provisioning/engine.js')).startProvisioningEngine,
  async () => {
    const { startJobScheduler } = await import('./jobs/scheduler.js');
    return (ctx) => startJobScheduler(ctx);
  },
  async () => (await import('./mail/outbox.js')).startMailSender,
];

/** A start that cannot serve: one line for the operator, and the process exits non-zero. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Serves until SIGTERM/SIGINT. Every failure before the server listens closes what was opened
 * (the data directory's lock included) and throws a StartupError; the generated admin password
 * is printed only once the server is listening.
 */
export async function startServer(config: Config): Promise<void> {
  if (await relaunchWithHeapLimit(config.maxHeapMb, createLogger(config.logLevel))) return;
  await checkListenAddress(config.host, config.port);
  // The HTTP and worker modules load while the database opens.
  const [{ ctx, boot }, api, services] = await Promise.all([
    openRuntime(config),
    import('./api/server.js'),
    Promise.all(BACKGROUND_SERVICES.map((load) => load())),
  ]);
  exitOnUnhandledErrors(ctx.logger);
  ctx.logger.info({ heapLimitMb: heapLimitMb() }, 'memory: JS heap limit');
  const opened: { stop(): Promise<void> }[] = [];
  const running: RunningService[] = [];
  let app: Awaited<ReturnType<typeof buildServer>> | undefined;
  let socket: Awaited<ReturnType<typeof startCommandSocket>> | undefined;
  try {
    // The CLI socket is for the embedded database; on PostgreSQL the CLI opens its own connection.
    if (!config.databaseUrl) {
      socket = await startCommandSocket(ctx).catch((e: Error) => {
        throw new StartupError(`cannot open the CLI socket in ${config.dataDir}: ${e.message}`);
      });
      opened.push(socket);
    }
    app = await api.buildServer(ctx);
    await app.listen({ port: config.port, host: config.host }).catch((e: NodeJS.ErrnoException) => {
      throw new StartupError(listenFailure(e, config.host, config.port));
    });
    if (config.inProcessWorkers) for (const start of services) running.push(await start(ctx));
  } catch (e) {
    await Promise.allSettled([app?.close(), ...opened.map((o) => o.stop()), ...running.map((s) => s.stop())]);
    await ctx.database.close();
    if (boot.generatedAdminPassword) {
      throw new StartupError(
        `${(e as Error).message} (the admin "${config.adminUser}" was created; set its password with: tenantry user set-password ${config.adminUser}_${boot.provider.name})`,
      );
    }
    throw e;
  }
  if (boot.generatedAdminPassword) printAdminPassword(config.adminUser, boot.generatedAdminPassword);
  // The first command from another terminal should not wait for the command modules to load.
  if (socket) setImmediate(() => void Promise.all(COMMAND_GROUPS.map((g) => g.load())).catch(() => undefined));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down: finishing requests in progress');
    const drained = Promise.allSettled([app!.close(), socket?.stop(), ...running.map((s) => s.stop())]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), config.shutdownGraceSeconds * 1000)));
    const finished = await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    if (!finished) {
      ctx.logger.warn('grace period over: releasing the leases of unfinished work for the next start');
      await Promise.allSettled(running.map((s) => s.releaseLeases?.()));
      socket?.abort();
    }
    await ctx.database.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * Binds and releases the address before anything else happens, so a port in use or a host that
 * is not this machine's fails the start at once, before the database is created or locked.
 */
async function checkListenAddress(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => reject(new StartupError(listenFailure(e, host, port))));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function listenFailure(e: NodeJS.ErrnoException, host: string, port: number): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (another Tenantry or another program); stop it or set PORT`;
    case 'EACCES':
      return `not allowed to listen on port ${port} (ports below 1024 need privileges); set PORT`;
    case 'EADDRNOTAVAIL':
      return `HOST ${host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST ${host} does not resolve to an address; set HOST to an IP address or a resolvable name`;
    default:
      return `cannot listen on ${host}:${port}: ${e.message}`;
  }
}
