import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { AppContext } from '../core/context.js';
import { requestContext } from '../core/request-context.js';
import { httpDuration, httpRequests, provisioningQueueDepth, registry } from '../observability/metrics.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route as metrics name it, where its URL pattern is not readable (CortexAPI's any-case regex). */
    metricsRoute?: string;
  }
}

/**
 * A caller's X-Request-Id is kept when it is a plain token (a load balancer's or a client's
 * correlation id); anything else is replaced, so log lines never carry what a client injected.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
}

function routeOf(request: FastifyRequest): string {
  // Unmatched URLs share one label: a scan of random paths must not grow the series.
  return request.routeOptions.config?.metricsRoute ?? request.routeOptions.url ?? '(unmatched)';
}

/** Request ids on every response and log line, HTTP metrics, and the /metrics endpoint. */
export function observabilityRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // After the body is read, so the handler and all it awaits run inside the request's context.
  app.addHook('preHandler', (request, _reply, done) => requestContext.run({ requestId: request.id }, done));
  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  const token = ctx.config.metricsToken;
  if (!token) return;
  const expected = Buffer.from(`Bearer ${token}`);
  app.get('/metrics', async (request, reply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="metrics"')
        .send({ error: 'A valid bearer token (TENANTRY_METRICS_TOKEN) is required.' });
    }
    await refreshQueueDepth(ctx);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** Read at scrape time from the database, so it counts the work of every process. */
async function refreshQueueDepth(ctx: AppContext): Promise<void> {
  const rows = await ctx.db
    .selectFrom('provisioning_requests')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('status', 'in', ['Requested', 'InProgress', 'Pending'])
    .groupBy('status')
    .execute();
  for (const status of ['Requested', 'InProgress', 'Pending']) {
    provisioningQueueDepth.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
  }
}
