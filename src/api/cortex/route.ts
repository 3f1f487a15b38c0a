import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { basicAuthenticator } from '../basic-auth.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { executeCortex } from './dispatch.js';
import { cortexCodeOf, httpStatusOf } from './error-codes.js';
import { renderError, renderResponse, withResponseLimits, type ResponseLimits } from './serialize.js';
import { decodeXmlBody } from './body-encoding.js';
import { retryAfter } from '../rest/envelope.js';
import { admitRequest } from '../fair-use.js';
import { parseCortexRequest } from './xml.js';
import { CortexReadCache } from './read-cache.js';
import { cortexActions } from '../../observability/metrics.js';

/** `/CortexAPI/Default.aspx` in any letter case (the seed's scripts use both spellings). */
export const CORTEX_PATH = `/:api(^${anyCase('CortexAPI')}$)/:page(^${anyCase('Default')}\\.${anyCase('aspx')}$)`;

function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}

const XML_TYPE = 'text/xml; charset=utf-8';

declare module 'fastify' {
  interface FastifyRequest {
    cortexCaller?: Caller;
    /** The parsed request's action, for the metrics of a request that then fails. */
    cortexAction?: string;
  }
}

/** The CortexAPI endpoint: Basic auth, XML in, XML out; every failure is the seed's error XML. */
export async function cortexRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const auth = basicAuthenticator(ctx);
  const cache = ctx.database.writeClock && ctx.config.cortexReadCache ? new CortexReadCache(ctx.database.writeClock) : undefined;
  const requestLimits = { maxElements: ctx.config.cortexMaxElements, maxChildren: ctx.config.cortexMaxChildren };
  const responseLimits: ResponseLimits = { maxElements: ctx.config.cortexMaxResponseElements, maxBytes: ctx.config.cortexMaxResponseBytes };
  await app.register(async (scope) => {
    // Integrations send text/xml, application/xml or (PowerShell's WebClient) a form type: read any as text.
    scope.removeAllContentTypeParsers();
    // Read as bytes: the XML declaration or a byte-order mark says how to decode them.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config.xmlBodyLimit }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((error, request, reply) => {
      const domainError = toDomainError(error, request, ctx.config.xmlBodyLimit);
      cortexActions.inc({ action: request.cortexAction ?? 'none', code: String(cortexCodeOf(domainError)) });
      return sendError(reply, domainError);
    });
    scope.route({
      method: ['GET', 'POST'],
      url: CORTEX_PATH,
      config: { metricsRoute: '/CortexAPI/Default.aspx' },
      onRequest: async (request, reply) => {
        const caller = await auth.authenticate(request.headers.authorization, request.ip);
        requirePermission(caller, 'API Access');
        admitRequest(request, reply, caller);
        request.cortexCaller = caller;
      },
      handler: async (request, reply) => {
        if (request.method === 'GET') return sendXml(reply, 200, renderResponse([]));
        const body = Buffer.isBuffer(request.body) ? decodeXmlBody(request.body) : '';
        const caller = request.cortexCaller!;
        const cached = cache?.lookup(caller, body);
        if (cached !== undefined) {
          // The cache keeps FIND/GET answers only; which of the two is not worth a parse here.
          cortexActions.inc({ action: 'cached', code: 'ok' });
          return sendXml(reply, 200, cached);
        }
        const at = cache?.now() ?? 0;
        const parsed = parseCortexRequest(body, requestLimits);
        request.cortexAction = parsed.action;
        const xml = await withResponseLimits(responseLimits, async () =>
          renderResponse(await executeCortex(ctx, caller, parsed), responseLimits),
        );
        cache?.store(caller, body, parsed, at, xml);
        cortexActions.inc({ action: parsed.action, code: 'ok' });
        return sendXml(reply, 200, xml);
      },
    });
  });
}

function toDomainError(error: unknown, request: FastifyRequest, bodyLimit: number): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DomainError('InvalidXmlFormat', `The request is larger than ${bodyLimit} bytes.`);
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP'))
    return new DomainError('InvalidXmlFormat', 'The request body could not be read.');
  request.log.error({ err: error }, 'CortexAPI request failed');
  return new DomainError('Unknown', `The request could not be processed; it may succeed if sent again later (request id ${request.id}).`);
}

function sendError(reply: FastifyReply, error: DomainError): FastifyReply {
  if (error.code === 'NotAuthenticated') reply.header('WWW-Authenticate', 'Basic realm="CortexAPI", charset="UTF-8"');
  retryAfter(reply, error);
  return sendXml(reply, httpStatusOf(error), renderError(cortexCodeOf(error), error.message));
}

function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type(XML_TYPE).send(body);
}
