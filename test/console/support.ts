import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A browser's view of the console API: keeps the session cookie and sends the CSRF token like the web app. */
export class ConsoleClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly headers: Record<string, string> = {},
  ) {}

  async signIn(userName: string, password: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.call('POST', '/api/console/session', { userName, password, ...extra });
    if (res.statusCode === 200) {
      const c = res.cookies.find((k) => k.name === 'tenantry_session');
      this.cookie = c?.value;
      this.csrf = res.json().csrfToken;
    }
    return res;
  }

  call(method: Method, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.app.inject({
      method,
      url,
      headers: {
        ...this.headers,
        ...(this.cookie ? { cookie: `tenantry_session=${this.cookie}` } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  get(url: string) {
    return this.call('GET', url);
  }
  post(url: string, body: unknown = {}) {
    return this.call('POST', url, body);
  }
  patch(url: string, body: unknown) {
    return this.call('PATCH', url, body);
  }
  put(url: string, body: unknown) {
    return this.call('PUT', url, body);
  }
  delete(url: string, body?: unknown) {
    return this.call('DELETE', url, body);
  }
}

export function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** A clock the test moves by hand: idle expiry and TOTP steps without sleeping. */
export class ManualClock {
  constructor(public ms = Date.parse('2026-11-30T09:00:00Z')) {}
  now = (): Date => new Date(this.ms);
  advance(minutes: number): void {
    this.ms += minutes * 60_000;
  }
}
