/**
 * Checks of the PSA records a sync relies on. A PSA answer can be well-formed JSON and still miss a
 * field (an Autotask contract without dates): that is bad data for one customer, reported as a
 * warning naming the customer and the field, not a connection error ending the batch (issue 11 §4).
 */

/** `number`, `string` or `date` (a string starting YYYY-MM-DD); a trailing `?` also allows null/absent. */
export type FieldRule = 'number' | 'string' | 'date' | 'number?' | 'string?' | 'date?';

/** One field of one PSA record that does not hold what the sync needs. */
export interface DataProblem {
  entity: string;
  id: string;
  field: string;
  value: string;
}

/** The fields of `record` that break their rule; nested fields are written `product/identifier`. */
export function dataProblems(entity: string, record: Record<string, unknown>, rules: Record<string, FieldRule>): DataProblem[] {
  const problems: DataProblem[] = [];
  for (const [field, rule] of Object.entries(rules)) {
    const value = field
      .split('/')
      .reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), record);
    if (!fits(value, rule)) problems.push({ entity, id: String(record.id ?? '?'), field, value: shown(value) });
  }
  return problems;
}

function fits(value: unknown, rule: FieldRule): boolean {
  if (value === null || value === undefined) return rule.endsWith('?');
  const kind = rule.replace('?', '');
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value);
  if (kind === 'string') return typeof value === 'string';
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value.slice(0, 10)));
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Problems grouped by the key of the record they concern (a company, an agreement). */
export class ProblemsByKey<K> {
  readonly #map = new Map<K, DataProblem[]>();
  add(key: K, problems: readonly DataProblem[]): void {
    if (problems.length) this.#map.set(key, [...(this.#map.get(key) ?? []), ...problems]);
  }
  get(key: K): readonly DataProblem[] {
    return this.#map.get(key) ?? [];
  }
}

/**
 * The explicit contract/agreement choice of a customer (issue 11 §6), from its additional
 * properties: a positive integer, undefined when not set, or a problem naming the property.
 */
export function mappedId(value: string | null | undefined, property: string): number | DataProblem | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  return /^\d{1,15}$/.test(value.trim()) && Number(value) > 0
    ? Number(value)
    : { entity: 'Customer property', id: property, field: property, value: JSON.stringify(value) };
}
