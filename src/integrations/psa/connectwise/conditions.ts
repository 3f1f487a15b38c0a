import { PsaInputError } from '../shared/errors.js';

/**
 * Builders for the `conditions` query parameter (psa-wire.md B.3): slash paths, quoted
 * strings, `[datetime]`, bare numbers, true/false/null, joined with `and`/`or`.
 */

export type CwLiteral = string | number | boolean | null | Date;

export type CwComparison = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'like';

/**
 * Renders a literal. No escape rule for quotes inside strings is documented, so a string is
 * wrapped in whichever quote it does not contain; a string with both is refused rather than
 * sent as a malformed (or injected) expression.
 */
export function literal(value: CwLiteral): string {
  if (value === null) return 'null';
  if (value instanceof Date) return `[${value.toISOString().replace(/\.\d{3}Z$/, 'Z')}]`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PsaInputError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new PsaInputError(`a ConnectWise condition value cannot contain both quote characters: ${value}`);
}

/** One comparison, for example `company/identifier="ACME"`. */
export function condition(path: string, op: CwComparison, value: CwLiteral): string {
  if (!/^[A-Za-z_][\w/]*$/.test(path)) throw new PsaInputError(`not a field path: ${path}`);
  return `${path}${/^[a-z]+$/.test(op) ? ` ${op} ` : op}${literal(value)}`;
}

/** ANDs the given parts, parenthesising each so `or` inside a part keeps its meaning. */
export function allOf(...parts: (string | undefined)[]): string {
  return join(parts, 'and');
}

export function anyOf(...parts: (string | undefined)[]): string {
  return join(parts, 'or');
}

function join(parts: (string | undefined)[], op: 'and' | 'or'): string {
  const present = parts.filter((p): p is string => p !== undefined && p !== '');
  return present.length === 1 ? present[0] : present.map((p) => `(${p})`).join(` ${op} `);
}
