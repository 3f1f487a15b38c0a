import { DomainError } from '../core/errors.js';

/**
 * A report query is written by the service provider but runs for every API caller, so it
 * must not be able to leave the caller's subtree (the seed warns that Atria's report queries
 * can). Tenantry's rule: a report reads only the relations the engine provides, already
 * restricted to the caller (scoped_customers, …). This module lexes the query (strings,
 * quoted identifiers and nested comments understood) and refuses anything that could name
 * other data: a table, view or catalog relation, a function outside a small pure allowlist
 * (query_to_xml, dblink, set_config… could read anything), dollar quoting, positional
 * parameters, Unicode-escaped names and multiple statements. The run itself is also a
 * read-only transaction with a statement timeout.
 */
export const SCOPED_RELATIONS = [
  'scoped_customers',
  'scoped_users',
  'scoped_customer_services',
  'scoped_user_services',
  'report_services',
] as const;

const SAFE_FUNCTIONS = new Set([
  'lower',
  'upper',
  'initcap',
  'trim',
  'btrim',
  'ltrim',
  'rtrim',
  'length',
  'char_length',
  'substring',
  'substr',
  'left',
  'right',
  'replace',
  'concat',
  'concat_ws',
  'position',
  'strpos',
  'split_part',
  'lpad',
  'rpad',
  'coalesce',
  'nullif',
  'greatest',
  'least',
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'string_agg',
  'array_agg',
  'bool_and',
  'bool_or',
  'round',
  'floor',
  'ceil',
  'ceiling',
  'abs',
  'mod',
  'trunc',
  'to_char',
  'to_date',
  'to_timestamp',
  'to_number',
  'date_trunc',
  'date_part',
  'extract',
  'age',
  'now',
  'make_date',
  'row_number',
  'rank',
  'dense_rank',
  'lag',
  'lead',
  'first_value',
  'last_value',
  'ntile',
]);

/** Keywords that may stand before "(" without being a function call. */
const KEYWORDS_BEFORE_PAREN = new Set([
  'in',
  'exists',
  'any',
  'all',
  'some',
  'over',
  'filter',
  'values',
  'as',
  'from',
  'join',
  'on',
  'where',
  'and',
  'or',
  'not',
  'select',
  'cast',
  'then',
  'else',
  'when',
  'case',
  'using',
  'by',
  'is',
  'like',
  'ilike',
  'between',
  'union',
  'intersect',
  'except',
  'distinct',
  'with',
  'lateral',
  'having',
  'group',
  'order',
  'partition',
  'limit',
  'offset',
  'varchar',
  'numeric',
  'decimal',
  'char',
  'timestamp',
  'timestamptz',
  'interval',
  'similar',
  'to',
]);

interface Token {
  kind: 'word' | 'quoted' | 'param' | 'punct' | 'string' | 'space';
  text: string;
}

const fail = (message: string): DomainError => new DomainError('ReportError', message);

/** Splits a query into tokens; refuses constructs the guard cannot reason about. */
export function lexReportSql(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = query.length;
  while (i < n) {
    const c = query[i]!;
    const rest = query.slice(i, i + 2);
    if (rest === '--') {
      const end = query.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      tokens.push({ kind: 'space', text: ' ' });
    } else if (rest === '/*') {
      i = skipBlockComment(query, i);
      tokens.push({ kind: 'space', text: ' ' });
    } else if (c === "'") {
      const escapes = /[eE]$/.test(query.slice(0, i)) && !/[A-Za-z0-9_][eE]$/.test(query.slice(0, i));
      const end = stringEnd(query, i, escapes);
      tokens.push({ kind: 'string', text: query.slice(i, end) });
      i = end;
    } else if (c === '"') {
      const end = query.indexOf('"', i + 1);
      if (end === -1) throw fail('The report query has an unterminated quoted name.');
      tokens.push({ kind: 'quoted', text: query.slice(i + 1, end) });
      i = end + 1;
    } else if (c === '@' && /[A-Za-z_]/.test(query[i + 1] ?? '')) {
      const m = /^@[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i))!;
      tokens.push({ kind: 'param', text: m[0].slice(1) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else if (/\s/.test(c)) {
      tokens.push({ kind: 'space', text: ' ' });
      i++;
    } else {
      if (c === ';') throw fail('A report query must be a single statement.');
      if (c === '$') throw fail('A report query may not use $ (dollar quoting or positional parameters): name parameters @Name.');
      if (c === '&' && /[uU]$/.test(query.slice(0, i))) throw fail('A report query may not use Unicode-escaped names.');
      if (c === '\\') throw fail('A report query may not use backslash commands.');
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

function skipBlockComment(query: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < query.length) {
    const two = query.slice(i, i + 2);
    if (two === '/*') {
      depth++;
      i += 2;
    } else if (two === '*/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  throw fail('The report query has an unterminated comment.');
}

function stringEnd(query: string, start: number, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < query.length) {
    const c = query[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === "'" && query[i + 1] === "'") i += 2;
    else if (c === "'") return i + 1;
    else i++;
  }
  throw fail('The report query has an unterminated string.');
}

/**
 * Checks a query against the rule above. `relationNames` are every relation the database
 * has (tables, views, catalogs), lower-cased; none may be named, however qualified or quoted.
 */
export function assertReportSqlIsScoped(query: string, relationNames: ReadonlySet<string>): Token[] {
  const tokens = lexReportSql(query);
  const significant = tokens.filter((t) => t.kind !== 'space');
  for (const [i, t] of significant.entries()) {
    if (t.kind !== 'word' && t.kind !== 'quoted') continue;
    const name = t.text.toLowerCase();
    if (relationNames.has(name) && !(SCOPED_RELATIONS as readonly string[]).includes(name)) {
      throw fail(`A report query may read only ${SCOPED_RELATIONS.join(', ')}; it names '${t.text}'.`);
    }
    if (name === 'into') throw fail('A report query may not SELECT INTO.');
    const next = significant[i + 1];
    if (next?.kind === 'punct' && next.text === '(' && !SAFE_FUNCTIONS.has(name) && !KEYWORDS_BEFORE_PAREN.has(name)) {
      throw fail(`A report query may not call '${t.text}'.`);
    }
  }
  return tokens;
}

/**
 * Rewrites @Name parameters as positional placeholders after `firstIndex - 1` engine
 * parameters, casting each to its declared type. Returns the SQL and the parameter order.
 */
export function bindNamedParameters(
  tokens: Token[],
  firstIndex: number,
  typeOf: (name: string) => string | undefined,
): { text: string; names: string[] } {
  const names: string[] = [];
  const text = tokens
    .map((t) => {
      if (t.kind === 'quoted') return `"${t.text}"`;
      if (t.kind !== 'param') return t.text;
      const type = typeOf(t.text);
      if (type === undefined) throw fail(`The report query uses @${t.text}, which is not one of its parameters.`);
      let index = names.findIndex((n) => n.toLowerCase() === t.text.toLowerCase());
      if (index === -1) index = names.push(t.text) - 1;
      return `$${firstIndex + index}::${type}`;
    })
    .join('');
  return { text, names };
}
