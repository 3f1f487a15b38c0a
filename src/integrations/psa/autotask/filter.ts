/**
 * Autotask query filters (psa-wire.md A.4): `{ op, field, value, udf?, items? }`, with
 * nested `and`/`or` groups. Top-level entries are ANDed by the server.
 */

export const FILTER_OPERATORS = [
  'eq',
  'noteq',
  'gt',
  'gte',
  'lt',
  'lte',
  'beginsWith',
  'endsWith',
  'contains',
  'exist',
  'notExist',
  'in',
  'notIn',
] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export type FilterValue = string | number | boolean | string[] | number[];

export interface FieldFilter {
  op: FilterOperator;
  field: string;
  value?: FilterValue;
  udf?: boolean;
}

export interface GroupFilter {
  op: 'and' | 'or';
  items: AtFilter[];
}

export type AtFilter = FieldFilter | GroupFilter;

/** `QueryModel` body (A.4). */
export interface AtQuery {
  filter: AtFilter[];
  maxRecords?: number;
  includeFields?: string[];
}

/** Largest page the API serves (A.4). */
export const MAX_RECORDS = 500;

/** Builders, so call sites read like the wire: `where.eq('companyID', 12)`. */
export const where = {
  eq: (field: string, value: string | number | boolean): FieldFilter => ({ op: 'eq', field, value }),
  gt: (field: string, value: string | number): FieldFilter => ({ op: 'gt', field, value }),
  gte: (field: string, value: string | number): FieldFilter => ({ op: 'gte', field, value }),
  lte: (field: string, value: string | number): FieldFilter => ({ op: 'lte', field, value }),
  in: (field: string, value: string[] | number[]): FieldFilter => ({ op: 'in', field, value }),
  or: (...items: AtFilter[]): GroupFilter => ({ op: 'or', items }),
  and: (...items: AtFilter[]): GroupFilter => ({ op: 'and', items }),
  /** The "select all" idiom, since a query needs at least one filter (A.4). */
  all: (): FieldFilter => ({ op: 'gte', field: 'id', value: 0 }),
};
