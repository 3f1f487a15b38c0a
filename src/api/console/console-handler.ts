import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { AppContext } from '../../core/context.js';
import { DomainError, validation } from '../../core/errors.js';
import { firstInputProblem, MAX_JSON_DEPTH } from '../../core/limits.js';
import { requirePermission } from '../../tenancy/caller.js';
import type { Permission } from '../../tenancy/permissions.js';
import { consoleGate, type ConsoleAuth } from './console-auth.js';
import { sendConsoleError } from './errors.js';
import { CONSOLE_ERROR_SCHEMA } from './schemas.js';
import { admitRequest } from '../fair-use.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A console endpoint: its path, documentation, JSON schemas and who may call it. */
export interface ConsoleRouteSpec {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  description?: string;
  permission?: Permission;
  /** Sign-in itself: no authentication before the handler. */
  anonymous?: boolean;
  params?: object;
  querystring?: object;
  body?: object;
  /** Response schemas by status; documented in /api/openapi.json, not used to filter the answer. */
  response?: Record<number | string, object>;
  /** Domain field names (in error details) → this endpoint's body fields, where they differ. */
  fields?: Record<string, string>;
}

export type ConsoleRouteHandler = (auth: ConsoleAuth, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const ajvBase: AjvOptions = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false };
const addFormats = addFormatsModule.default;
// Bodies are typed JSON: no coercion, unknown fields refused. Query strings and path parameters are text: coerced.
const bodyAjv = addFormats(new Ajv({ ...ajvBase, coerceTypes: false }));
const textAjv = addFormats(new Ajv({ ...ajvBase, coerceTypes: 'array' }));

const validatorCompiler = ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
  return (data: unknown) =>
    validate(data) ? { value: data } : { error: Object.assign(new Error('validation failed'), { validation: validate.errors ?? [] }) };
};

/** Registers console routes on `app` with one way to authenticate, validate, document and fail. */
export function consoleRouter(app: FastifyInstance, ctx: AppContext) {
  return (spec: ConsoleRouteSpec, handler: ConsoleRouteHandler): void => {
    const schema: FastifySchema & Record<string, unknown> = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { ...(spec.response ?? {}), '4xx': CONSOLE_ERROR_SCHEMA, '5xx': CONSOLE_ERROR_SCHEMA },
      security: spec.anonymous ? [] : [{ consoleSession: [] }, { basic: [] }],
    };
    app.route({
      method: spec.method,
      url: spec.url,
      schema,
      attachValidation: true,
      validatorCompiler: validatorCompiler as never,
      // Answers are built by the handlers' own mappers; the schemas document them.
      serializerCompiler: () => (data) => JSON.stringify(data),
      handler: async (req, reply) => {
        try {
          const auth = spec.anonymous ? undefined : await consoleGate(ctx).authenticate(req);
          if (req.validationError) throw req.validationError;
          refuseUnsafeInput(req);
          if (auth && spec.permission) requirePermission(auth.caller, spec.permission);
          if (auth) admitRequest(req, reply, auth.caller);
          return await handler(auth as ConsoleAuth, req, reply);
        } catch (e) {
          return sendConsoleError(req, reply, spec.fields ? onWireField(e, spec.fields) : e);
        }
      },
    });
  };
}

/**
 * Text the schemas cannot police in one place: a control character (NUL breaks PostgreSQL text and
 * jsonb) or a lone surrogate anywhere in the path, the query or the body, in a value or a property
 * name, and bodies nested deeper than MAX_JSON_DEPTH (free-form fields like job parameters).
 */
function refuseUnsafeInput(req: FastifyRequest): void {
  const problem = firstInputProblem(req.params, true) ?? firstInputProblem(req.query, true) ?? firstInputProblem(req.body);
  if (!problem) return;
  const field = problem.path.join('.') || undefined;
  const where = field ? `'${field}'` : 'The request body';
  throw validation(
    problem.problem === 'depth'
      ? `${where} is nested more than ${MAX_JSON_DEPTH} levels deep.`
      : `${where} contains a control character or text that is not valid Unicode.`,
    field ? { field } : {},
  );
}

/** Names a domain error's field as this endpoint's body calls it, so a form shows the message at the right input. */
function onWireField(e: unknown, fields: Record<string, string>): unknown {
  if (!(e instanceof DomainError) || typeof e.details.field !== 'string') return e;
  const wire = fields[e.details.field];
  return wire ? new DomainError(e.code, e.message, { ...e.details, field: wire }) : e;
}
