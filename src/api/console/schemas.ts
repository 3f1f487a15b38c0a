/*
 * JSON schemas of the console API: they validate requests (bodies strictly, query strings coerced)
 * and document every endpoint in /api/openapi.json. Limits follow the seed's fields.
 */
import { PROVISIONING_STATUSES } from '../../core/statuses.js';
import { MAX_PAGE_SIZE } from '../../core/limits.js';

type Schema = Record<string, unknown>;

export const str = (maxLength = 255, extra: Schema = {}): Schema => ({ type: 'string', maxLength, ...extra });
export const text = (maxLength = 255): Schema => ({ type: 'string', minLength: 1, maxLength, pattern: '\\S' });
export const nullableStr = (maxLength = 255): Schema => ({ type: ['string', 'null'], maxLength });
export const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
export const id: Schema = { type: 'integer', minimum: 1, maximum: 2147483647 };
export const bool: Schema = { type: 'boolean' };
export const dateTime: Schema = { type: 'string', format: 'date-time' };
export const nullableDateTime: Schema = { type: ['string', 'null'], format: 'date-time' };
export const status: Schema = { type: 'string', enum: [...PROVISIONING_STATUSES] };
export const stringMap: Schema = {
  type: 'object',
  maxProperties: 100,
  additionalProperties: { type: 'string', maxLength: 4000 },
  propertyNames: { maxLength: 128 },
};

/** A closed object: unknown properties are refused, so a typo never silently drops a value. */
export function obj(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

/** An answer's shape (open: documents the fields, tolerates additions). */
export function shape(properties: Record<string, Schema>): Schema {
  return { type: 'object', properties };
}

export const arrayOf = (items: Schema, maxItems = 1000): Schema => ({ type: 'array', items, maxItems });

export const ref: Schema = shape({ id, name: str() });
export const nullableRef: Schema = { ...ref, nullable: true };

export const idParams: Schema = obj({ id }, ['id']);

/** The rows of one page of a list: every list's `pageSize` or `limit` is capped by the one shared MAX_PAGE_SIZE. */
export const pageSize = (defaultSize?: number): Schema => ({
  type: 'integer',
  minimum: 1,
  maximum: MAX_PAGE_SIZE,
  ...(defaultSize === undefined ? {} : { default: defaultSize }),
});

/** Where a list's page starts, for the lists that page by row offset. */
export const offset = (defaultOffset?: number): Schema => ({
  type: 'integer',
  minimum: 0,
  maximum: 10_000_000,
  ...(defaultOffset === undefined ? {} : { default: defaultOffset }),
});

export const paging: Record<string, Schema> = {
  page: { type: 'integer', minimum: 1, maximum: 100000, default: 1 },
  pageSize: pageSize(25),
  order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
};

export const pageOf = (item: Schema): Schema => shape({ items: arrayOf(item), total: int(), page: int(), pageSize: int() });

export const requestIdAnswer: Schema = shape({ requestId: { type: ['integer', 'null'] } });

export const CONSOLE_ERROR_SCHEMA: Schema = {
  type: 'object',
  description:
    'Every console error: a stable code, a message to show, the field it belongs to (forms) and the request id for the server log.',
  properties: {
    error: shape({ code: str(), message: str(4000), field: str() }),
    requestId: str(),
  },
};
