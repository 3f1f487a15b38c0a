/** Which database engine the test run uses: TENANTRY_TEST_DB=pglite (default) or postgres. */
export const TEST_ENGINE: 'pglite' | 'postgres' = process.env.TENANTRY_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

/** The PostgreSQL server for tests (CI: 127.0.0.1:5432, database test, trust auth). */
export const TEST_PG_URL = process.env.TENANTRY_TEST_PG_URL ?? 'postgres://127.0.0.1:5432/test';

export const TEST_ADMIN = { user: 'admin', password: 'Admin-Passw0rd!' };
export const TEST_PROVIDER_NAME = 'Service Provider';

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}
