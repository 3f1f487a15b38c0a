import path from 'node:path';

/** Runtime configuration, read once from the environment and validated. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… when a PostgreSQL server is used; undefined means embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  providerName: string;
  adminUser: string;
  adminPassword: string | undefined;
  secretKey: string | undefined;
  logLevel: string;
  /** Run provisioning/job workers inside the server process. */
  inProcessWorkers: boolean;
  xmlBodyLimit: number;
  /** Embedded database only: keep CortexAPI FIND/GET answers until the next write. */
  cortexReadCache: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parsePort(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`PORT must be a number between 0 and 65535, got "${raw}"`);
  const port = Number(raw);
  if (port > 65535) throw new ConfigError(`PORT must be a number between 0 and 65535, got "${raw}"`);
  return port;
}

function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL (expected postgres://user@host:5432/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (url.pathname.length <= 1) throw new ConfigError('DATABASE_URL must name a database, e.g. postgres://localhost:5432/tenantry');
  return raw;
}

function parsePositiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.TENANTRY_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`TENANTRY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const providerName = (env.TENANTRY_PROVIDER_NAME ?? 'Service Provider').trim();
  if (providerName === '') throw new ConfigError('TENANTRY_PROVIDER_NAME must not be empty');
  const adminUser = (env.TENANTRY_ADMIN_USER ?? 'admin').trim();
  if (!/^[A-Za-z0-9._-]+$/.test(adminUser)) throw new ConfigError('TENANTRY_ADMIN_USER may contain only letters, digits, ".", "_" and "-"');
  return {
    port: parsePort(env.PORT, 8080),
    host: env.HOST ?? '0.0.0.0',
    dataDir: path.resolve(env.TENANTRY_DATA_DIR ?? './data'),
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    providerName,
    adminUser,
    adminPassword: env.TENANTRY_ADMIN_PASSWORD || undefined,
    secretKey: env.TENANTRY_SECRET_KEY || undefined,
    logLevel,
    inProcessWorkers: env.TENANTRY_WORKERS !== '0',
    xmlBodyLimit: parsePositiveInt('TENANTRY_XML_BODY_LIMIT', env.TENANTRY_XML_BODY_LIMIT, 1024 * 1024),
    cortexReadCache: env.TENANTRY_CORTEX_READ_CACHE !== '0',
  };
}
