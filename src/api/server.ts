import Fastify, { type FastifyInstance } from 'fastify';
import type { AppContext } from '../core/context.js';
import { cortexRoutes } from './cortex/route.js';
import { externalApiRoutes } from './rest/billing-routes.js';
import { consoleTokenRoutes } from './console/api-tokens.js';
import { jobsConsoleRoutes } from './console/jobs.routes.js';

/** An API module: registers its routes on the shared server. */
export type RouteModule = (app: FastifyInstance, ctx: AppContext) => Promise<void> | void;

const ROUTE_MODULES: RouteModule[] = [healthRoutes, cortexRoutes, externalApiRoutes, consoleTokenRoutes, jobsConsoleRoutes()];

export async function buildServer(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: ctx.logger, bodyLimit: ctx.config.xmlBodyLimit }) as unknown as FastifyInstance;
  for (const register of ROUTE_MODULES) await register(app, ctx);
  return app;
}

function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async (_req, reply) => {
    try {
      await ctx.database.raw.query('select 1');
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
}
