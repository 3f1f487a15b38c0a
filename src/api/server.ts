import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { renderError } from './cortex/serialize.js';
import { cortexCodeOf, httpStatusOf } from './cortex/error-codes.js';
import { retryAfter, statusOf } from './rest/envelope.js';
import { DomainError } from '../core/errors.js';
import { FairUse, fairUseLimitsOf } from './fair-use.js';
import type { AppContext } from '../core/context.js';
import { cortexRoutes } from './cortex/route.js';
import { externalApiRoutes } from './rest/billing-routes.js';
import { consoleTokenRoutes } from './console/api-tokens.js';
import { jobsConsoleRoutes } from './console/jobs.routes.js';
import { consoleRoutes } from './console/routes.js';
import { consoleAppRoutes } from './web-console/serve-console.js';
import { consoleBillingRoutes } from './console/billing.routes.js';
import { consoleBillingConfigRoutes } from './console/billing-config.routes.js';
import { observabilityRoutes, requestIdOf } from './observability.js';
import { relayCredentialChanges } from '../tenancy/sign-in/credential-events.js';
import { securityHeaders } from './security-headers.js';
import { requestDeadlines } from './deadline.js';

/** An API module: registers its routes on the shared server. */
export type RouteModule = (app: FastifyInstance, ctx: AppContext) => Promise<void> | void;

// Observability first: its hooks must wrap every route registered after it; then every request's time limit.
const ROUTE_MODULES: RouteModule[] = [
  observabilityRoutes,
  (app, ctx) =>
    requestDeadlines(
      app,
      { handlerMs: ctx.config.handlerTimeoutSeconds * 1000, streamMs: ctx.config.streamTimeoutSeconds * 1000 },
      sendEdgeError,
    ),
  healthRoutes,
  cortexRoutes,
  externalApiRoutes,
  consoleRoutes,
  consoleTokenRoutes,
  jobsConsoleRoutes(),
  consoleBillingRoutes,
  consoleBillingConfigRoutes,
  consoleAppRoutes(),
];

/** Test seams: the fair-use clock and heap gauge (tests count requests instead of waiting). */
export interface ServerOptions {
  now?: () => number;
  heapRatio?: () => number;
}

export async function buildServer(ctx: AppContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger,
    bodyLimit: ctx.config.xmlBodyLimit,
    frameworkErrors: badUrl,
    trustProxy: ctx.config.trustProxy,
    // A client that trickles its request in holds a socket and memory: it gets this long for all of it.
    requestTimeout: ctx.config.requestTimeoutSeconds * 1000,
    genReqId: requestIdOf,
  }) as unknown as FastifyInstance;
  app.decorate('fairUse', new FairUse(fairUseLimitsOf(ctx.config), options.now, options.heapRatio));
  // Shed load before authentication (which costs a hash) while the heap is near its limit; health checks still answer.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/healthz') return;
    try {
      app.fairUse.shedIfOverloaded();
    } catch (e) {
      return sendEdgeError(request, reply, e as DomainError);
    }
  });
  securityHeaders(app);
  const stopRelay = await relayCredentialChanges(ctx.database);
  app.addHook('onClose', async () => stopRelay());
  for (const register of ROUTE_MODULES) await register(app, ctx);
  // No route matched (an unknown path, another method, a path parameter past the router's length limit).
  app.setNotFoundHandler((request, reply) =>
    sendEdgeError(
      request,
      reply,
      new DomainError('NotFound', `No endpoint at ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.`),
      404,
    ),
  );
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

/**
 * A URL the router cannot decode (a lone '%', a broken escape) never reaches a route: answer it in
 * the format of the API it was meant for, as the client's error.
 */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.info({ code: error.code }, 'refused a URL that cannot be decoded');
  void sendEdgeError(request, reply, new DomainError('InvalidXmlFormat', "The URL is not valid: a '%' must start an escape like %20."));
}

/** An error raised before any route ran, in the wire format of the API the URL belongs to. */
function sendEdgeError(request: FastifyRequest, reply: FastifyReply, error: DomainError, httpStatus?: number): FastifyReply {
  retryAfter(reply, error);
  if (/^\/cortexapi\//i.test(request.url)) {
    return reply
      .code(httpStatus ?? httpStatusOf(error))
      .type('text/xml; charset=utf-8')
      .send(renderError(cortexCodeOf(error), error.message));
  }
  const status = httpStatus ?? (error.code === 'InvalidXmlFormat' ? 400 : statusOf(error));
  if (/^\/api\//i.test(request.url) && !/^\/api\/console\//i.test(request.url)) {
    return reply.code(status).send({ data: null, errorMessage: error.message, success: false, responseCode: status });
  }
  return reply.code(status).send({
    error: { code: error.code === 'InvalidXmlFormat' ? 'ValidationError' : error.code, message: error.message },
    requestId: String(request.id),
  });
}
