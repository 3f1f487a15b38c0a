/**
 * Limits every API shares (docs/security.md, "Limits"). Fixed, not settings: they shape the JSON
 * schemas, which are built once when the routes are registered.
 */

/** The most rows one page of any list answers (console `pageSize`/`limit`); a larger request is a 400. */
export const MAX_PAGE_SIZE = 1000;

/** Rows one file download of a list (CSV or Excel export) may hold. */
export const MAX_EXPORT_ROWS = 100_000;

/** Nesting of JSON request bodies: deeper is refused before anything walks or stores it. */
export const MAX_JSON_DEPTH = 32;

/**
 * Characters no text field may hold: NUL (PostgreSQL refuses it in text and jsonb), the other C0
 * controls except tab and line breaks, DEL, and lone UTF-16 surrogates (invalid in jsonb).
 */
const FORBIDDEN_IN_TEXT =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** In a URL (path segment or query value) no control character has a meaning: tab and line breaks included. */
const FORBIDDEN_IN_URL = /[\u0000-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasForbiddenCharacter(value: string, inUrl = false): boolean {
  return (inUrl ? FORBIDDEN_IN_URL : FORBIDDEN_IN_TEXT).test(value);
}

export type InputProblem = { path: string[]; problem: 'character' | 'depth' };

/**
 * The first string (value or property name) holding a forbidden character, or the first value
 * nested deeper than MAX_JSON_DEPTH, in parsed JSON or query/path parameters. Iterative, so a
 * hostile nesting cannot overflow the stack.
 */
export function firstInputProblem(input: unknown, inUrl = false): InputProblem | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value: input, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (hasForbiddenCharacter(value, inUrl)) return { path, problem: 'character' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) return { path, problem: 'depth' };
    for (const [key, child] of Object.entries(value)) {
      if (hasForbiddenCharacter(key, inUrl)) return { path: [...path, key], problem: 'character' };
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}
