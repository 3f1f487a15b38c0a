import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainError } from '../core/errors.js';
import { requestContext, requestTimedOut, type RequestContext } from '../core/request-context.js';
import { httpTimeouts } from '../observability/metrics.js';

export interface DeadlineLimits {
  /** Until the answer starts: past it, the request is answered with a time-out and its work stopped. */
  handlerMs: number;
  /** A streamed answer (already started) may go on until this long after the request began, then it is cut off. */
  streamMs: number;
}

/**
 * Bounds every request's work (issue 10): a handler that has not started its answer by the limit
 * is answered with a time-out in its API's format (`answer`) and its deadline is aborted, which
 * cancels its database work (core/db) so nothing more of it commits. An answer that has started is
 * a stream (a billing detail download, progress events): it may run until the stream limit, then
 * the connection is closed and its reads stopped the same way. See docs/decisions.md.
 */
export function requestDeadlines(
  app: FastifyInstance,
  limits: DeadlineLimits,
  answer: (request: FastifyRequest, reply: FastifyReply, error: DomainError) => void,
): void {
  const deadlines = new WeakMap<FastifyRequest, Pick<RequestContext, 'deadline' | 'allowTime'>>();
  // From the request's arrival: authentication (in onRequest hooks) is work too.
  app.addHook('onRequest', (request, reply, done) => {
    const controller = new AbortController();
    const started = Date.now();
    let handlerMs = limits.handlerMs;
    let timer: NodeJS.Timeout | undefined;
    const route = request.routeOptions.config?.metricsRoute ?? request.routeOptions.url ?? '(unmatched)';
    const stop = (phase: 'handler' | 'stream') => {
      httpTimeouts.inc({ route, phase });
      request.log.warn({ limitMs: phase === 'handler' ? handlerMs : limits.streamMs }, `request stopped at its ${phase} time limit`);
      controller.abort();
    };
    const endStream = () => {
      if (reply.raw.writableEnded) return;
      stop('stream');
      reply.raw.destroy();
    };
    const expire = () => {
      if (reply.raw.writableEnded) return;
      if (!reply.sent && !reply.raw.headersSent) {
        // A client that went away gets no answer, but its work is stopped all the same.
        if (!reply.raw.destroyed) answer(request, reply, requestTimedOut());
        stop('handler');
        return;
      }
      timer = setTimeout(endStream, Math.max(0, started + Math.max(limits.streamMs, handlerMs) - Date.now())).unref();
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(expire, Math.max(0, started + handlerMs - Date.now())).unref();
    };
    const allowTime = (ms: number) => {
      if (ms <= handlerMs) return;
      handlerMs = ms;
      schedule();
    };
    // Only a complete answer ends the watch: a client hanging up does not end the handler's work.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) clearTimeout(timer);
    });
    schedule();
    const deadline = { deadline: controller.signal, allowTime };
    deadlines.set(request, deadline);
    // Authentication and all it awaits see the deadline (core/db reads it from here)…
    requestContext.run({ requestId: request.id, ...deadline }, done);
  });
  // …and, once the body is read (its events run outside that context), the handler and all it awaits.
  app.addHook('preHandler', (request, _reply, done) =>
    requestContext.run({ ...requestContext.getStore(), requestId: request.id, ...deadlines.get(request) }, done),
  );
}
