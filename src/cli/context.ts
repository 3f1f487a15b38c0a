import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import { openDatabase, type Database } from '../core/db/database.js';
import type { AppContext } from '../core/context.js';
import { systemCaller, type Caller } from '../tenancy/caller.js';
import { InvalidArgumentError } from 'commander';
import { getCustomer, type Customer } from '../tenancy/customer.service.js';
import { getUser } from '../tenancy/user.service.js';
import { remoteCommand } from './scope.js';
import { getBillingSettings } from '../billing/periods/bill-periods.js';

/**
 * Runs a CLI command against the database: inside a running server (the command came over its
 * socket) with the server's own context, otherwise with a one-shot runtime closed afterwards.
 */
export async function withRuntime<T>(fn: (ctx: AppContext, caller: Caller) => Promise<T>): Promise<T> {
  const remote = remoteCommand.getStore();
  if (remote) {
    displayZone = (await getBillingSettings(remote.ctx.db)).timeZone;
    return fn(remote.ctx, systemCaller(remote.ctx.provider, 'cli'));
  }
  const { ctx, boot } = await openRuntime(loadConfig(), { quiet: true });
  if (boot.generatedAdminPassword) printAdminPassword(ctx.config.adminUser, boot.generatedAdminPassword);
  try {
    displayZone = (await getBillingSettings(ctx.db)).timeZone;
    return await fn(ctx, systemCaller(ctx.provider, 'cli'));
  } finally {
    await ctx.database.close();
  }
}

/** Runs fn on the database alone (no bootstrap): the running server's, or one opened for this command. */
export async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const remote = remoteCommand.getStore();
  if (remote) return fn(remote.ctx.database);
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

export function printAdminPassword(user: string, password: string): void {
  console.log(`Created the provider admin user "${user}" with password: ${password}`);
  console.log('This password is shown only once. Change it with: tenantry user set-password');
}

/** The provider's time zone, in which the CLI shows times (set when a command opens the database). */
let displayZone = 'UTC';

/** A time as an operator reads it: local to the provider, with the zone's abbreviation. */
export function formatTime(d: Date): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: displayZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  }).format(d);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return formatTime(v);
  if (Array.isArray(v)) return v.map(cellText).join(', ');
  return String(v);
}

/** Prints one record as aligned "key: value" lines (times in the provider's zone). */
export function printDetail(record: object): void {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [k, v] of Object.entries(record))
    console.log(`${(k + ':').padEnd(width + 1)} ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : cellText(v)}`.trimEnd());
}

/**
 * One progress line of a long command (demo, billing run, reprocess, backup, restore). It goes to
 * stderr, so the command's answer on stdout (`--json` above all) stays clean for a pipe.
 */
export function progress(line: string): void {
  console.error(line);
}

/** `--json` prints the data as it is; otherwise `human` prints it for reading. */
export function printAs<T>(data: T, json: boolean | undefined, human: (data: T) => void): void {
  if (json) console.log(JSON.stringify(data, null, 2));
  else human(data);
}

/** Prints rows as an aligned text table (times in the provider's zone). */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const text = cellText;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(columns));
  for (const r of rows) console.log(line(columns.map((c) => text(r[c]))));
}

/** A customer (or service) given on the command line: a number is an id, anything else a name. */
export function idOrName(value: string): { id: number } | { name: string } {
  return /^\d+$/.test(value) ? { id: Number(value) } : { name: value };
}

/** A user named on the command line by name or UPN, with its customer, in the caller's reach. */
export async function locateUser(ctx: AppContext, caller: Caller, name: string): Promise<{ customer: Customer; ref: { id: number } }> {
  const row = await ctx.db
    .selectFrom('users')
    .select(['customer_id', 'id'])
    .where((eb) => eb.or([eb(eb.fn('lower', ['name']), '=', name.toLowerCase()), eb(eb.fn('lower', ['upn']), '=', name.toLowerCase())]))
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new InvalidArgumentError(`user '${name}' not found`);
  const customer = await getCustomer(ctx.db, caller, { id: row.customer_id });
  await getUser(ctx.db, caller, customer, { id: row.id });
  return { customer, ref: { id: row.id } };
}
