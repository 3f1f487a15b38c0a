import net from 'node:net';
import path from 'node:path';
import type { EngineOptions } from '../provisioning/engine.js';

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
  /** Elements in one CortexAPI request. */
  cortexMaxElements: number;
  /** Child elements of any one element of a CortexAPI request (e.g. <user>s in a <customer>). */
  cortexMaxChildren: number;
  /** Elements in one CortexAPI answer. */
  cortexMaxResponseElements: number;
  /** Bytes of one CortexAPI answer. */
  cortexMaxResponseBytes: number;
  /** Console sessions end after this many minutes without a call. */
  sessionIdleMinutes: number;
  /** Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDRs); false: none. */
  trustProxy: boolean | string[];
  /** Fair use per API caller (Infinity = no limit): requests running at once and started per minute. */
  maxConcurrentPerUser: number;
  maxConcurrentPerCustomer: number;
  ratePerUser: number;
  ratePerCustomer: number;
  /** New requests get 503 while the JS heap is above this percentage of its limit. */
  shedHeapPercent: number;
  /** Seconds a client may take to send a whole request (headers and body). */
  requestTimeoutSeconds: number;
  /** Seconds a handler may work on a request before it is answered with a time-out and its database work cancelled. */
  handlerTimeoutSeconds: number;
  /** Seconds a streamed answer (billing detail download, progress events) may take from the request to its last byte. */
  streamTimeoutSeconds: number;
  /** Shortest time between two runs of a job's schedule; a CRON that fires more often is refused. */
  jobMinIntervalSeconds: number;
  /** JS heap limit of server and worker processes (--max-old-space-size); undefined: Node's default. */
  maxHeapMb: number | undefined;
  /** Bearer token that /metrics requires; undefined: /metrics is off. */
  metricsToken: string | undefined;
  /** On SIGTERM/SIGINT: how long requests, CLI commands and provisioning work in progress may take to finish. */
  shutdownGraceSeconds: number;
  /** smtp:// or smtps:// URL of the mail server; undefined: no mail (reminders stay log lines). */
  smtpUrl: string | undefined;
  /** From address of every mail, e.g. "Tenantry <tenantry@example.net>". */
  mailFrom: string | undefined;
  /** Addresses told when a job run fails. */
  jobFailureMailTo: string[];
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

/** A boolean setting: true/false or 1/0, nothing else (a typo must not silently mean "on"). */
function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true, false, 1 or 0, got "${raw}"`);
}

/** An unset or positive setting: a whole number, or any positive number of (fractional) seconds. */
function parsePositiveSetting(name: string, raw: string | undefined, kind: 'integer' | 'number'): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ok = kind === 'integer' ? /^\d{1,9}$/.test(raw) : /^\d{1,9}(\.\d+)?$/.test(raw);
  if (!ok || Number(raw) <= 0)
    throw new ConfigError(`${name} must be a positive ${kind === 'integer' ? 'whole number' : 'number'}, got "${raw}"`);
  return Number(raw);
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function parseHost(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '0.0.0.0';
  if (net.isIP(raw) === 0 && !HOSTNAME.test(raw))
    throw new ConfigError(`HOST must be an IP address (0.0.0.0 for all, :: for all IPv6) or a host name, got "${raw}"`);
  return raw;
}

/** The admin password given at first start guards the whole provider: refuse a weak one. */
function parseAdminPassword(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(raw)).length;
  if (raw.length < 12 || classes < 3) {
    throw new ConfigError(
      'TENANTRY_ADMIN_PASSWORD must be at least 12 characters with three of: lower case, upper case, digits, symbols (or leave it unset to have one generated)',
    );
  }
  return raw;
}

function parsePositiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

function parseTrustProxy(raw: string | undefined): boolean | string[] {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'false') return false;
  if (raw.trim() === 'true') return true;
  const list = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = list.find((a) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a));
  if (bad)
    throw new ConfigError(`TENANTRY_TRUST_PROXY must be true, false or a comma-separated list of proxy addresses/CIDRs, got "${bad}"`);
  return list;
}

/** A limit where 0 means "no limit" (Infinity). */
function parseLimitSetting(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new ConfigError(`${name} must be a whole number (0 = no limit), got "${raw}"`);
  return Number(raw) === 0 ? Infinity : Number(raw);
}

function parsePercent(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 10 || Number(raw) > 100)
    throw new ConfigError(`${name} must be a percentage between 10 and 100, got "${raw}"`);
  return Number(raw);
}

/** A shared secret typed into a scraper's or mailer's config: long enough, no spaces or quotes. */
function parseToken(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9._~+/=-]{16,}$/.test(raw))
    throw new ConfigError(`${name} must be at least 16 characters of letters, digits and . _ ~ + / = -`);
  return raw;
}

function parseHeapMb(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 128)
    throw new ConfigError(`TENANTRY_MAX_HEAP_MB must be a whole number of megabytes, at least 128, got "${raw}"`);
  return Number(raw);
}

/** The data directory (TENANTRY_DATA_DIR, default ./data), absolute. */
export function dataDirFrom(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.TENANTRY_DATA_DIR ?? './data');
}

const ADDRESS = /^[^\s<>@,]+@[^\s<>@,]+$/;

function parseSmtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new ConfigError('TENANTRY_SMTP_URL must look like smtp://user:password@mail.example.net:587 or smtps://…:465');
  }
  return raw;
}

/** "tenantry@example.net" or "Tenantry <tenantry@example.net>". */
function parseMailFrom(raw: string | undefined, smtpUrl: string | undefined): string | undefined {
  const value = raw?.trim() ?? '';
  if (value === '') {
    if (smtpUrl) throw new ConfigError('TENANTRY_MAIL_FROM is required with TENANTRY_SMTP_URL, e.g. "Tenantry <tenantry@example.net>"');
    return undefined;
  }
  const address = /<([^>]*)>$/.exec(value)?.[1] ?? value;
  if (!ADDRESS.test(address))
    throw new ConfigError(`TENANTRY_MAIL_FROM must be an address like "Tenantry <tenantry@example.net>", got "${value}"`);
  return value;
}

function parseAddressList(name: string, raw: string | undefined, smtpUrl: string | undefined): string[] {
  const list = (raw ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = list.find((a) => !ADDRESS.test(a));
  if (bad) throw new ConfigError(`${name} must be comma-separated mail addresses, got "${bad}"`);
  if (list.length && !smtpUrl) throw new ConfigError(`${name} needs TENANTRY_SMTP_URL to send mail`);
  return list;
}

const ENGINE_SETTINGS: Record<string, keyof EngineOptions> = {
  TENANTRY_PROVISIONING_CONCURRENCY: 'concurrency',
  TENANTRY_PROVISIONING_LEASE_SECONDS: 'leaseSeconds',
  TENANTRY_PROVISIONING_MAX_ATTEMPTS: 'maxAttempts',
  TENANTRY_PROVISIONING_BACKOFF_SECONDS: 'backoffSeconds',
  TENANTRY_PROVISIONING_BACKOFF_MAX_SECONDS: 'backoffMaxSeconds',
  TENANTRY_PROVISIONING_POLL_SECONDS: 'pollingIntervalSeconds',
};

/** Provisioning engine tuning from TENANTRY_PROVISIONING_* (loadConfig checks them at every start). */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<EngineOptions> {
  const options: Partial<EngineOptions> = {};
  for (const [name, key] of Object.entries(ENGINE_SETTINGS)) {
    const value = parsePositiveSetting(name, env[name], key === 'concurrency' || key === 'maxAttempts' ? 'integer' : 'number');
    if (value !== undefined) options[key] = value;
  }
  return options;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.TENANTRY_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`TENANTRY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const providerName = (env.TENANTRY_PROVIDER_NAME ?? 'Service Provider').trim();
  if (providerName === '') throw new ConfigError('TENANTRY_PROVIDER_NAME must not be empty');
  const adminUser = (env.TENANTRY_ADMIN_USER ?? 'admin').trim();
  if (!/^[A-Za-z0-9._-]+$/.test(adminUser)) throw new ConfigError('TENANTRY_ADMIN_USER may contain only letters, digits, ".", "_" and "-"');
  const smtpUrl = parseSmtpUrl(env.TENANTRY_SMTP_URL);
  engineOptionsFromEnv(env);
  parsePositiveSetting('TENANTRY_JOBS_POLL_MS', env.TENANTRY_JOBS_POLL_MS, 'integer');
  if (env.TENANTRY_DATA_DIR !== undefined && env.TENANTRY_DATA_DIR.trim() === '')
    throw new ConfigError('TENANTRY_DATA_DIR must not be empty (unset it for ./data)');
  return {
    port: parsePort(env.PORT, 8080),
    host: parseHost(env.HOST),
    dataDir: dataDirFrom(env),
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    providerName,
    adminUser,
    adminPassword: parseAdminPassword(env.TENANTRY_ADMIN_PASSWORD),
    secretKey: env.TENANTRY_SECRET_KEY || undefined,
    logLevel,
    inProcessWorkers: parseBoolean('TENANTRY_WORKERS', env.TENANTRY_WORKERS, true),
    xmlBodyLimit: parsePositiveInt('TENANTRY_XML_BODY_LIMIT', env.TENANTRY_XML_BODY_LIMIT, 1024 * 1024),
    cortexReadCache: parseBoolean('TENANTRY_CORTEX_READ_CACHE', env.TENANTRY_CORTEX_READ_CACHE, true),
    cortexMaxElements: parsePositiveInt('TENANTRY_CORTEX_MAX_ELEMENTS', env.TENANTRY_CORTEX_MAX_ELEMENTS, 10_000),
    cortexMaxChildren: parsePositiveInt('TENANTRY_CORTEX_MAX_CHILDREN', env.TENANTRY_CORTEX_MAX_CHILDREN, 1_000),
    cortexMaxResponseElements: parsePositiveInt(
      'TENANTRY_CORTEX_MAX_RESPONSE_ELEMENTS',
      env.TENANTRY_CORTEX_MAX_RESPONSE_ELEMENTS,
      200_000,
    ),
    cortexMaxResponseBytes: parsePositiveInt(
      'TENANTRY_CORTEX_MAX_RESPONSE_BYTES',
      env.TENANTRY_CORTEX_MAX_RESPONSE_BYTES,
      16 * 1024 * 1024,
    ),
    sessionIdleMinutes: parsePositiveInt('TENANTRY_SESSION_IDLE_MINUTES', env.TENANTRY_SESSION_IDLE_MINUTES, 30),
    trustProxy: parseTrustProxy(env.TENANTRY_TRUST_PROXY),
    maxConcurrentPerUser: parseLimitSetting('TENANTRY_MAX_CONCURRENT_PER_USER', env.TENANTRY_MAX_CONCURRENT_PER_USER, 4),
    maxConcurrentPerCustomer: parseLimitSetting('TENANTRY_MAX_CONCURRENT_PER_CUSTOMER', env.TENANTRY_MAX_CONCURRENT_PER_CUSTOMER, 8),
    ratePerUser: parseLimitSetting('TENANTRY_RATE_PER_USER', env.TENANTRY_RATE_PER_USER, 1200),
    ratePerCustomer: parseLimitSetting('TENANTRY_RATE_PER_CUSTOMER', env.TENANTRY_RATE_PER_CUSTOMER, 3000),
    shedHeapPercent: parsePercent('TENANTRY_SHED_HEAP_PERCENT', env.TENANTRY_SHED_HEAP_PERCENT, 90),
    requestTimeoutSeconds: parsePositiveInt('TENANTRY_REQUEST_TIMEOUT_SECONDS', env.TENANTRY_REQUEST_TIMEOUT_SECONDS, 60),
    handlerTimeoutSeconds: parsePositiveSetting('TENANTRY_HANDLER_TIMEOUT_SECONDS', env.TENANTRY_HANDLER_TIMEOUT_SECONDS, 'number') ?? 60,
    streamTimeoutSeconds: parsePositiveSetting('TENANTRY_STREAM_TIMEOUT_SECONDS', env.TENANTRY_STREAM_TIMEOUT_SECONDS, 'number') ?? 1800,
    jobMinIntervalSeconds: parsePositiveInt('TENANTRY_JOB_MIN_INTERVAL_SECONDS', env.TENANTRY_JOB_MIN_INTERVAL_SECONDS, 60),
    maxHeapMb: parseHeapMb(env.TENANTRY_MAX_HEAP_MB),
    metricsToken: parseToken('TENANTRY_METRICS_TOKEN', env.TENANTRY_METRICS_TOKEN),
    shutdownGraceSeconds: parsePositiveInt('TENANTRY_SHUTDOWN_GRACE_SECONDS', env.TENANTRY_SHUTDOWN_GRACE_SECONDS, 30),
    smtpUrl,
    mailFrom: parseMailFrom(env.TENANTRY_MAIL_FROM, smtpUrl),
    jobFailureMailTo: parseAddressList('TENANTRY_JOB_FAILURE_MAIL_TO', env.TENANTRY_JOB_FAILURE_MAIL_TO, smtpUrl),
  };
}
