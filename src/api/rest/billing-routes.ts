import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppContext } from '../../core/context.js';
import { DomainError } from '../../core/errors.js';
import type { Caller } from '../../tenancy/caller.js';
import { authenticateApiToken, tokenSigningKey } from '../../tenancy/api-tokens/api-token.service.js';
import { billingDetail, billingParameters, billingSummary, detailReadingFor } from '../../billing/summary.js';
import { ok, sendError } from './envelope.js';
import { assertPrintable, decodePathSegment, lowerKeys, optionalFlag, optionalId, optionalText } from './params.js';
import { detailCsvStream, detailJsonStream, detailXlsxStream } from './detail-formats.js';
import * as schemas from './openapi.js';
import { admitRequest } from '../fair-use.js';

type Handler = (ctx: AppContext, caller: Caller, req: FastifyRequest, reply: FastifyReply, endDate: string) => Promise<unknown>;

/** seed 000 paths; matched case-insensitively (the seed itself writes both /api/Billing and /api/billing). */
const ROUTES: { pattern: RegExp; handler: Handler }[] = [
  { pattern: /^\/api\/billing\/parameters\/?$/i, handler: parametersHandler },
  { pattern: /^\/api\/billing\/([^/]+)\/detail\/?$/i, handler: detailHandler },
  { pattern: /^\/api\/billing\/([^/]+)\/?$/i, handler: summaryHandler },
];

/** The External REST API (billing), its OpenAPI 3 document at /api/openapi.json and a browsable UI at /api/docs. */
export async function externalApiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const key = tokenSigningKey(ctx.secrets);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tenantry External API',
        version: '1.0.0',
        description:
          'Billing extraction, wire-compatible with the Atria External API: authenticate with `Authorization: Bearer <token>`; tokens are created by users with the "Service Provider Developer" permission (`tenantry token create`). The console JSON API (`/api/console/...`, tags other than Billing) authenticates with the console session cookie or HTTP Basic; see docs/console-api.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          basic: { type: 'http', scheme: 'basic', description: 'Console endpoints: the CortexAPI user name and password (for scripts).' },
          consoleSession: {
            type: 'apiKey',
            in: 'cookie',
            name: 'tenantry_session',
            description:
              'Console endpoints: the session cookie from POST /api/console/session; state-changing calls also send X-CSRF-Token.',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    // The External API and the console's JSON API are documented here; other modules' routes stay out.
    transform: ({ schema, url }) => ({
      schema: (/^\/api\/(billing|console\/)/i.test(url) ? schema : { ...(schema ?? {}), hide: true }) as never,
      url,
    }),
  });
  // Swagger UI's own policy (hashes of its inline scripts), minus the https upgrade that breaks plain-http installs.
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    transformStaticCSP: (csp) => csp.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const serve = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const caller = await bearerCaller(ctx, key, req);
      admitRequest(req, reply, caller);
      // The router has already decoded the path parameter (decoding again would turn "%25" into an error).
      const endDate = (req.params as { endDate?: string }).endDate ?? '';
      assertPrintable(endDate, 'The end date');
      return await handler(ctx, caller, req, reply, endDate);
    } catch (e) {
      return sendError(reply, e);
    }
  };
  const doc = (summary: string, extra: object) => ({ schema: { summary, tags: ['Billing'], ...extra }, attachValidation: true });
  app.get(
    '/api/Billing/parameters',
    doc('Billing periods (end dates) and customers', { response: { 200: schemas.parametersResponse, '4xx': schemas.errorResponse } }),
    serve(parametersHandler),
  );
  // Static beats parametric: without this, /api/billing/parameters would be read as an end date.
  app.get('/api/billing/parameters', { schema: { hide: true } }, serve(parametersHandler));
  app.get(
    '/api/billing/:endDate',
    doc('Summary of a billing period, compared with the prior period', {
      params: schemas.endDateParam,
      querystring: schemas.summaryQuery,
      response: { 200: schemas.summaryResponse, '4xx': schemas.errorResponse },
    }),
    serve(summaryHandler),
  );
  app.get(
    '/api/billing/:endDate/detail',
    doc('User-level detail of a billing period (JSON, CSV or Excel; streamed)', {
      params: schemas.endDateParam,
      querystring: schemas.detailQuery,
      produces: ['application/json', 'text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      response: { 200: schemas.detailResponse, '4xx': schemas.errorResponse },
    }),
    serve(detailHandler),
  );
  // Other spellings of the same paths (/api/BILLING/…, /API/Billing/Parameters) land here. The
  // router is case-sensitive and shared, so only the first segment's usual spellings get a catch-all.
  const anySpelling = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    for (const route of ROUTES) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      let endDate: string;
      try {
        endDate = decodePathSegment(m[1] ?? '', 'The end date');
      } catch (e) {
        return sendError(reply, e);
      }
      (req.params as Record<string, string>) = { endDate };
      return serve(route.handler)(req, reply);
    }
    return sendError(reply, new DomainError('NotFound', `No API endpoint at ${path}.`));
  };
  for (const prefix of ['/api/*', '/API/*', '/Api/*']) app.get(prefix, { schema: { hide: true } }, anySpelling);
}

async function bearerCaller(ctx: AppContext, key: Uint8Array, req: FastifyRequest): Promise<Caller> {
  const header = req.headers.authorization ?? '';
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new DomainError('NotAuthenticated', 'An API token is required: send the header "Authorization: Bearer <token>".');
  return authenticateApiToken(ctx.db, key, match[1]!);
}

async function parametersHandler(ctx: AppContext, caller: Caller): Promise<unknown> {
  return ok(await billingParameters(ctx.db, caller));
}

async function summaryHandler(
  ctx: AppContext,
  caller: Caller,
  req: FastifyRequest,
  _reply: FastifyReply,
  endDate: string,
): Promise<unknown> {
  const q = lowerKeys(req.query);
  const customerId = optionalId(q, 'customerId');
  const billable = optionalFlag(q, 'billable');
  const aggregateByCustomer = optionalFlag(q, 'aggregateByCustomer');
  const summary = await billingSummary(ctx.db, caller, {
    endDate,
    ...(customerId !== undefined ? { customerId } : {}),
    ...(billable !== undefined ? { billable } : {}),
    ...(aggregateByCustomer !== undefined ? { aggregateByCustomer } : {}),
  });
  return ok({
    // The seed's fields, in its order; the contract's extra fields (ids, billingId) stay internal.
    items: summary.items.map((i) => ({
      customerCode: i.customerCode,
      customerName: i.customerName,
      customerAccountCode: i.customerAccountCode,
      sku: i.sku,
      isBillable: i.isBillable,
      lineDescription: i.lineDescription,
      previousPeriod: Number(i.previousPeriod),
      change: Number(i.change),
      currentPeriod: Number(i.currentPeriod),
    })),
    billPeriodId: summary.billPeriodId,
    periodName: summary.periodName,
    startDate: summary.startDate.toISOString(),
    endDate: summary.endDate.toISOString(),
  });
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function detailHandler(ctx: AppContext, caller: Caller, req: FastifyRequest, reply: FastifyReply, endDate: string): Promise<unknown> {
  const q = lowerKeys(req.query);
  const format =
    (q.format ?? '').toLowerCase() ||
    (/text\/csv/i.test(req.headers.accept ?? '') ? 'csv' : /spreadsheetml/i.test(req.headers.accept ?? '') ? 'xlsx' : 'json');
  if (!['json', 'csv', 'xlsx'].includes(format))
    throw new DomainError('ValidationError', `format must be json, csv or xlsx, got '${q.format}'.`);
  const customerId = optionalId(q, 'customerId');
  const billable = optionalFlag(q, 'billable');
  const serviceSearch = optionalText(q, 'serviceSearch');
  const userSearch = optionalText(q, 'userSearch');
  const detail = await billingDetail(
    ctx.db,
    caller,
    {
      endDate,
      ...(customerId !== undefined ? { customerId } : {}),
      ...(billable !== undefined ? { billable } : {}),
      ...(serviceSearch ? { serviceSearch } : {}),
      ...(userSearch ? { userSearch } : {}),
    },
    detailReadingFor(ctx.database),
  );
  const file = `billing-detail-${detail.period.endDate}`;
  if (format === 'csv') {
    return reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${file}.csv"`)
      .send(detailCsvStream(detail));
  }
  if (format === 'xlsx') {
    return reply
      .type(XLSX)
      .header('Content-Disposition', `attachment; filename="${file}.xlsx"`)
      .send(detailXlsxStream(detail, (e) => req.log.error({ err: e }, 'billing detail export failed')));
  }
  return reply.type('application/json; charset=utf-8').send(detailJsonStream(detail));
}
