import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import { basicAuthenticator } from '../basic-auth.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { executeCortex } from './dispatch.js';
import { cortexCodeOf, httpStatusOf } from './error-codes.js';
import { renderError, renderResponse } from './serialize.js';
import { parseCortexRequest } from './xml.js';
import { CortexReadCache } from './read-cache.js';

/** `/CortexAPI/Default.aspx` in any letter case (the seed's scripts use both spellings). */
export const CORTEX_PATH = `/:api(^${anyCase('CortexAPI')}$)/:page(^${anyCase('Default')}\\.${anyCase('aspx')}$)`;

function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}

const XML_TYPE = 'text/xml; charset=utf-8';

declare module 'fastify' {
  interface FastifyRequest {
    cortexCaller?: Caller;
  }
}

/** The CortexAPI endpoint: Basic auth, XML in, XML out; every failure is the seed's error XML. */
export async function cortexRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const auth = basicAuthenticator(ctx);
  const cache = ctx.database.writeClock && ctx.config.cortexReadCache ? new CortexReadCache(ctx.database.writeClock) : undefined;
  await app.register(async (scope) => {
    // Integrations send text/xml, application/xml or (PowerShell's WebClient) a form type: read any as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: ctx.config.xmlBodyLimit }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((error, request, reply) => sendError(reply, toDomainError(error, request, ctx.config.xmlBodyLimit)));
    scope.route({
      method: ['GET', 'POST'],
      url: CORTEX_PATH,
      onRequest: async (request) => {
        const caller = await auth.authenticate(request.headers.authorization, request.ip);
        requirePermission(caller, 'API Access');
        request.cortexCaller = caller;
      },
      handler: async (request, reply) => {
        if (request.method === 'GET') return sendXml(reply, 200, renderResponse([]));
        const body = typeof request.body === 'string' ? request.body : '';
        const caller = request.cortexCaller!;
        const cached = cache?.lookup(caller, body);
        if (cached !== undefined) return sendXml(reply, 200, cached);
        const at = cache?.now() ?? 0;
        const parsed = parseCortexRequest(body);
        const xml = renderResponse(await executeCortex(ctx, caller, parsed));
        cache?.store(caller, body, parsed, at, xml);
        return sendXml(reply, 200, xml);
      },
    });
  });
}

function toDomainError(error: unknown, request: FastifyRequest, bodyLimit: number): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DomainError('InvalidXmlFormat', `The request is larger than ${bodyLimit} bytes.`);
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) return new DomainError('InvalidXmlFormat', 'The request body could not be read.');
  request.log.error({ err: error }, 'CortexAPI request failed');
  return new DomainError('Unknown', 'The request could not be processed; it may succeed if sent again later.');
}

function sendError(reply: FastifyReply, error: DomainError): FastifyReply {
  if (error.code === 'NotAuthenticated') reply.header('WWW-Authenticate', 'Basic realm="CortexAPI", charset="UTF-8"');
  return sendXml(reply, httpStatusOf(error), renderError(cortexCodeOf(error), error.message));
}

function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type(XML_TYPE).send(body);
}
