/**
 * The one HTTP client of the console: JSON in and out, the session cookie, the CSRF header on
 * every state-changing call, and the API's one error shape turned into `ApiError`.
 * Pages never call fetch themselves: they use the functions in this folder.
 */

/** The console API's error answer (docs/console-api.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The body property or query parameter the message is about, shown next to that field. */
    readonly field?: string,
    /** Seconds to wait, from Retry-After (429). */
    readonly retryAfter?: number,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Whether a failed read may succeed if asked again: a server error or "busy" (429, 503), not a 4xx about the request. */
export function worthRetrying(failures: number, error: unknown): boolean {
  if (failures >= 3) return false;
  if (!(error instanceof ApiError)) return true;
  return error.status === 429 || error.status >= 500;
}

/** Waits as long as the server's Retry-After says (at most 10 s), else backs off 1, 2, 4 s. */
export function retryDelay(failures: number, error: unknown): number {
  const seconds = error instanceof ApiError && error.retryAfter !== undefined ? error.retryAfter : 2 ** failures;
  return Math.min(10, Math.max(0.2, seconds)) * 1000;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

let csrfToken: string | null = null;
const signedOutListeners = new Set<(reason: ApiError) => void>();

/** Remembers the session's CSRF token (from sign-in or GET /session). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called with the server's reason when it says the session is gone (expired, signed out elsewhere, user disabled). */
export function onSignedOut(listener: (reason: ApiError) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Tells every listener that the session has ended (a console call's 401, or the live feed's last event). */
export function signedOut(reason: ApiError): void {
  for (const listener of signedOutListeners) listener(reason);
}

/** Asks the server whether the session still holds; if it does not, the listeners hear why. */
export async function confirmSignedIn(): Promise<void> {
  try {
    await request('GET', '/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signedOut(e);
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SESSION_ENDED = new Set(['NotAuthenticated', 'SessionExpired', 'AccountDisabled']);

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(withQuery(`/api/console${path}`, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'Tenantry cannot be reached. Check the connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = parseJson(text);
  if (res.ok) return json as T;
  const error = errorOf(res, json);
  if (res.status === 401 && SESSION_ENDED.has(error.code) && path !== '/session') signedOut(error);
  throw error;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(res: Response, json: unknown): ApiError {
  const body = json as { error?: { code?: string; message?: string; field?: string }; requestId?: string } | undefined;
  const retryAfter = Number(res.headers.get('Retry-After')) || undefined;
  if (body?.error?.message) {
    return new ApiError(res.status, body.error.code ?? 'Error', body.error.message, body.error.field, retryAfter, body.requestId);
  }
  // Not the API's shape (a proxy, a crash page): never show what it said, it may be a stack trace.
  const message =
    res.status >= 500
      ? 'Something went wrong on the server. Try again; if it persists, tell your administrator.'
      : `The request failed (HTTP ${res.status}).`;
  return new ApiError(res.status, res.status >= 500 ? 'InternalError' : 'Error', message, undefined, retryAfter);
}

export const http = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, query),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
};
