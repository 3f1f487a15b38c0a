import { FILTER_OPERATORS, MAX_RECORDS, type FilterOperator } from './filter.js';

/** Raised by the simulator; rendered as `{ errors: [message] }` with `status` (psa-wire.md A.6). */
export class AtSimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type AtRecord = Record<string, unknown> & { id: number };

/** A query body after case-insensitive key matching (A.4: camelCase and PascalCase both occur). */
export interface NormalisedQuery {
  filter: unknown[];
  maxRecords: number;
  includeFields: string[] | undefined;
}

/** Limit on OR conditions per query (A.4). */
const MAX_OR_CONDITIONS = 500;

const OPERATORS = new Map<string, FilterOperator>(FILTER_OPERATORS.map((op) => [op.toLowerCase(), op]));

/** Reads a query body the way the API does: keys without regard to case, maxRecords capped at 500. */
export function normaliseQuery(body: unknown): NormalisedQuery {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AtSimError(500, 'The query body is not a valid QueryModel.');
  const filter = ciGet(body as Record<string, unknown>, 'filter');
  const maxRecords = ciGet(body as Record<string, unknown>, 'maxRecords');
  const includeFields = ciGet(body as Record<string, unknown>, 'includeFields');
  if (!Array.isArray(filter) || filter.length === 0) throw new AtSimError(500, 'A query must contain at least one filter.');
  if (
    maxRecords !== undefined &&
    (typeof maxRecords !== 'number' || !Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS)
  ) {
    throw new AtSimError(500, `MaxRecords must be between 1 and ${MAX_RECORDS}.`);
  }
  if (includeFields !== undefined && !(Array.isArray(includeFields) && includeFields.every((f) => typeof f === 'string'))) {
    throw new AtSimError(500, 'IncludeFields must be an array of field names.');
  }
  if (countOrConditions(filter) > MAX_OR_CONDITIONS) {
    throw new AtSimError(500, "Queries are limited to 500 or fewer 'OR' conditions.");
  }
  return { filter, maxRecords: (maxRecords as number | undefined) ?? MAX_RECORDS, includeFields: includeFields as string[] | undefined };
}

/** True when `record` satisfies every top-level filter (they are ANDed, A.4). `fields` are the entity's known fields. */
export function matches(record: AtRecord, filter: unknown[], fields: readonly string[]): boolean {
  return filter.every((f) => matchOne(record, f, fields));
}

/** Narrows a record to `includeFields`, keeping `id` and, as the real API does, `userDefinedFields` (A.4). */
export function project(record: AtRecord, includeFields: string[] | undefined): AtRecord {
  if (!includeFields) return record;
  const out: AtRecord = { id: record.id };
  for (const name of includeFields) {
    const key = ciKey(record, name);
    if (key !== undefined) out[key] = record[key];
  }
  if ('userDefinedFields' in record) out.userDefinedFields = record.userDefinedFields;
  return out;
}

/** Property lookup without regard to case. */
export function ciGet(obj: Record<string, unknown>, name: string): unknown {
  const key = ciKey(obj, name);
  return key === undefined ? undefined : obj[key];
}

export function ciKey(obj: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function matchOne(record: AtRecord, raw: unknown, fields: readonly string[]): boolean {
  if (typeof raw !== 'object' || raw === null) throw new AtSimError(500, 'Invalid filter item.');
  const item = raw as Record<string, unknown>;
  const opName = String(ciGet(item, 'op') ?? '').toLowerCase();
  if (opName === 'and' || opName === 'or') {
    const items = ciGet(item, 'items');
    if (!Array.isArray(items) || items.length === 0) throw new AtSimError(500, `Filter group '${opName}' needs items.`);
    return opName === 'and' ? items.every((i) => matchOne(record, i, fields)) : items.some((i) => matchOne(record, i, fields));
  }
  const op = OPERATORS.get(opName);
  if (!op) throw new AtSimError(500, `Unsupported filter operator '${String(ciGet(item, 'op'))}'.`);
  const fieldName = String(ciGet(item, 'field') ?? '');
  const actual = ciGet(item, 'udf') === true ? udfValue(record, fieldName) : fieldValue(record, fieldName, fields);
  return compare(op, actual, ciGet(item, 'value'));
}

function fieldValue(record: AtRecord, name: string, fields: readonly string[]): unknown {
  const known = fields.find((f) => f.toLowerCase() === name.toLowerCase());
  if (!known) throw new AtSimError(500, `Unable to find ${name} in the entity's fields.`);
  return record[known];
}

function udfValue(record: AtRecord, label: string): unknown {
  const udfs = (record.userDefinedFields as { name: string; value: unknown }[] | undefined) ?? [];
  return udfs.find((u) => u.name.toLowerCase() === label.toLowerCase())?.value ?? null;
}

function compare(op: FilterOperator, actual: unknown, expected: unknown): boolean {
  const present = actual !== null && actual !== undefined && actual !== '';
  switch (op) {
    case 'exist':
      return present;
    case 'notExist':
      return !present;
    case 'in':
    case 'notIn': {
      if (!Array.isArray(expected)) throw new AtSimError(500, `Operator '${op}' needs an array value.`);
      const found = expected.some((e) => order(actual, e) === 0);
      return op === 'in' ? found : !found;
    }
    default:
      break;
  }
  if (!present) return op === 'noteq';
  switch (op) {
    case 'eq':
      return order(actual, expected) === 0;
    case 'noteq':
      return order(actual, expected) !== 0;
    case 'gt':
      return order(actual, expected) > 0;
    case 'gte':
      return order(actual, expected) >= 0;
    case 'lt':
      return order(actual, expected) < 0;
    case 'lte':
      return order(actual, expected) <= 0;
    case 'beginsWith':
      return text(actual).startsWith(text(expected));
    case 'endsWith':
      return text(actual).endsWith(text(expected));
    case 'contains':
      return text(actual).includes(text(expected));
  }
}

// SQL Server's default collation compares strings without regard to case, so the API does too.
function order(actual: unknown, expected: unknown): number {
  if (typeof actual === 'number' || typeof expected === 'number') {
    const a = Number(actual);
    const b = Number(expected);
    return a === b ? 0 : a < b ? -1 : 1;
  }
  if (typeof actual === 'boolean') return actual === (expected === true || String(expected).toLowerCase() === 'true') ? 0 : 1;
  const a = text(actual);
  const b = text(expected);
  return isDate(a) && isDate(b) ? fullDate(a).localeCompare(fullDate(b)) : a.localeCompare(b);
}

/** `2024-05-01` and `2024-05-01T00:00:00` are the same instant (A.5: UTC, midnight for date-only). */
function fullDate(value: string): string {
  return value.length === 10 ? `${value}t00:00:00` : value.replace(/z$/, '');
}

function text(value: unknown): string {
  return String(value ?? '').toLowerCase();
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}/.test(value);
}

function countOrConditions(filter: unknown[]): number {
  let total = 0;
  for (const raw of filter) {
    if (typeof raw !== 'object' || raw === null) continue;
    const item = raw as Record<string, unknown>;
    const items = ciGet(item, 'items');
    if (!Array.isArray(items)) continue;
    if (String(ciGet(item, 'op')).toLowerCase() === 'or') total += items.length;
    total += countOrConditions(items);
  }
  return total;
}
