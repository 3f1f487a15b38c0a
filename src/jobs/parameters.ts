import { validation, type DomainError } from '../core/errors.js';

/**
 * Per-task JSON parameter schemas (seed 003 / 004 "Configuration" tables): each parameter has a
 * default; names match without regard to case and are stored in the seed's spelling; unknown
 * names and wrong types are refused when the job is saved, so a typo is not silently ignored.
 */
export type ParameterSpec = (value: unknown, name: string) => unknown;

export type ParameterSchema = Record<string, { default: unknown; check: ParameterSpec; description: string }>;

export function parseParameters(schema: ParameterSchema, raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') raw = {};
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw) as unknown;
    } catch (e) {
      throw validation(`The parameters are not valid JSON: ${(e as Error).message}`, { field: 'parameters' });
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw validation('The parameters must be a JSON object.', { field: 'parameters' });
  const out: Record<string, unknown> = {};
  const names = Object.keys(schema);
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (!name) throw validation(`Unknown parameter '${key}'. Known parameters: ${names.join(', ')}.`, { field: 'parameters' });
    out[name] = schema[name]!.check(value, name);
  }
  for (const name of names) if (!(name in out)) out[name] = structuredClone(schema[name]!.default);
  return out;
}

/** A parameter that fails its check, as the editor shows it next to the parameter. */
export interface ParameterError {
  field: string;
  message: string;
}

/**
 * Every problem with a task's parameters at once (the editor validates as the operator types),
 * with the parameters as they would be saved (defaults filled in) when there is none.
 */
export function checkParameters(
  schema: ParameterSchema,
  raw: unknown,
): { errors: ParameterError[]; parameters: Record<string, unknown> | null } {
  let object: unknown = raw ?? {};
  if (typeof raw === 'string') {
    try {
      object = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
    } catch (e) {
      return { errors: [{ field: 'parameters', message: `The parameters are not valid JSON: ${(e as Error).message}` }], parameters: null };
    }
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object))
    return { errors: [{ field: 'parameters', message: 'The parameters must be a JSON object.' }], parameters: null };
  const errors: ParameterError[] = [];
  for (const [key, value] of Object.entries(object as Record<string, unknown>)) {
    try {
      parseParameters(schema, { [key]: value });
    } catch (e) {
      // An unknown name is reported against the name itself, a bad value against its parameter.
      const field = (e as DomainError).details?.field;
      errors.push({ field: typeof field === 'string' && field !== 'parameters' ? field : key, message: (e as Error).message });
    }
  }
  return errors.length ? { errors, parameters: null } : { errors, parameters: parseParameters(schema, object) };
}

export const text: ParameterSpec = (value, name) => {
  if (typeof value !== 'string') throw validation(`Parameter ${name} must be a string.`, { field: name });
  return value.trim();
};

/** "" or an absolute http(s) URL. */
export const url: ParameterSpec = (value, name) => {
  const s = text(value, name) as string;
  if (s === '') return s;
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    throw validation(`Parameter ${name} must be an http(s) URL, got '${s}'.`, { field: name });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw validation(`Parameter ${name} must be an http(s) URL, got '${s}'.`, { field: name });
  return s;
};

/** The seeds write flags as "True"/"False"; JSON booleans are accepted too and stored as given. */
export const flag: ParameterSpec = (value, name) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
    return value.trim()[0]!.toUpperCase() + value.trim().slice(1).toLowerCase();
  throw validation(`Parameter ${name} must be "True" or "False".`, { field: name });
};

/** "Previous", "Current" or YYYY-MM-DD (seed 003 BillingPeriod). Whether a period exists for the date is checked at run time (AT19 / CW19). */
export const billingPeriod: ParameterSpec = (value, name) => {
  const s = text(value, name) as string;
  if (/^previous$/i.test(s)) return 'Previous';
  if (/^current$/i.test(s) || s === '') return 'Current';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== s) {
    throw validation(`Parameter ${name} must be "Previous", "Current" or a date as YYYY-MM-DD, got '${s}'.`, { field: name });
  }
  return s;
};

/** "" (all customers), a list of customer codes, or a comma-separated string of them. */
export const customerCodes: ParameterSpec = (value, name) => {
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v) => v.trim()).filter((v) => v !== '');
  throw validation(`Parameter ${name} must be a list of customer codes or "".`, { field: name });
};

export function oneOf(options: readonly string[]): ParameterSpec {
  return (value, name) => {
    const s = text(value, name) as string;
    const match = options.find((o) => o.toLowerCase() === s.toLowerCase());
    if (!match) throw validation(`Parameter ${name} must be one of ${options.join(', ')}, got '${s}'.`, { field: name });
    return match;
  };
}
