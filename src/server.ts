import type { Config } from './core/config.js';
import { openRuntime } from './core/runtime.js';
import { buildServer } from './api/server.js';
import { printAdminPassword } from './cli/context.js';
import type { AppContext } from './core/context.js';
import { startProvisioningEngine } from './provisioning/engine.js';
import { startJobScheduler } from './jobs/scheduler.js';

/** Background services started with the server (provisioning workers, job scheduler, …). */
export type BackgroundService = (ctx: AppContext) => Promise<{ stop(): Promise<void> }>;
const BACKGROUND_SERVICES: BackgroundService[] = [startProvisioningEngine, (ctx) => startJobScheduler(ctx)];

export async function startServer(config: Config): Promise<void> {
  const { ctx, boot } = await openRuntime(config);
  if (boot.generatedAdminPassword) printAdminPassword(config.adminUser, boot.generatedAdminPassword);
  const app = await buildServer(ctx);
  const running = config.inProcessWorkers ? await Promise.all(BACKGROUND_SERVICES.map((s) => s(ctx))) : [];
  await app.listen({ port: config.port, host: config.host });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info('shutting down');
    await app.close();
    for (const s of running) await s.stop();
    await ctx.database.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
