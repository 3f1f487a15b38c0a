import { validation } from '../../core/errors.js';

/** Query parameters by lower-case name: the seed spells them both `aggregateByCustomer` and `AggregateByCustomer`. */
export function lowerKeys(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const value = Array.isArray(v) ? v.at(-1) : v;
    if (value !== undefined && value !== null) out[k.toLowerCase()] = String(value);
  }
  return out;
}

/** An optional positive whole number (customerId). */
export function optionalId(q: Record<string, string>, name: string): number | undefined {
  const raw = q[name.toLowerCase()];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,9}$/.test(raw.trim()))
    throw validation(`${name} must be a whole number (a customer id from /api/Billing/parameters), got '${raw}'.`);
  return Number(raw.trim());
}

/** seed 000 types `billable` as an integer (1 = billable only) and aggregateByCustomer as a boolean; both forms are accepted for both. */
export function optionalFlag(q: Record<string, string>, name: string): boolean | undefined {
  const raw = q[name.toLowerCase()];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw validation(`${name} must be 1 or 0 (true or false), got '${raw}'.`);
}

export function optionalText(q: Record<string, string>, name: string, max = 200): string | undefined {
  const raw = q[name.toLowerCase()];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.length > max) throw validation(`${name} is longer than ${max} characters.`);
  assertPrintable(raw, name);
  return raw.trim();
}

const UNPRINTABLE = /[\u0000-\u001F\u007F\uFFFD]/;

/**
 * Control characters (PostgreSQL refuses NUL in text) and U+FFFD (what a broken %-escape or an
 * invalid UTF-8 byte decodes to) are the client's mistake: a 400, never a database error.
 */
export function assertPrintable(value: string, name: string): void {
  if (UNPRINTABLE.test(value)) throw validation(`${name} contains a control character or bytes that are not valid UTF-8.`);
}

/** A path segment from the raw URL: a broken %-escape is a 400, not an exception. */
export function decodePathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw validation(`${name} is not a valid URL path segment (a '%' must start an escape like %20).`);
  }
}
