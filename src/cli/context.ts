import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import type { AppContext } from '../core/context.js';
import { systemCaller, type Caller } from '../tenancy/caller.js';
import { InvalidArgumentError } from 'commander';
import { getCustomer, type Customer } from '../tenancy/customer.service.js';
import { getUser } from '../tenancy/user.service.js';

/** Runs a one-shot CLI command against the configured database, then closes it. */
export async function withRuntime<T>(fn: (ctx: AppContext, caller: Caller) => Promise<T>): Promise<T> {
  const { ctx, boot } = await openRuntime(loadConfig(), { quiet: true });
  if (boot.generatedAdminPassword) printAdminPassword(ctx.config.adminUser, boot.generatedAdminPassword);
  try {
    return await fn(ctx, systemCaller(ctx.provider, 'cli'));
  } finally {
    await ctx.database.close();
  }
}

export function printAdminPassword(user: string, password: string): void {
  console.log(`Created the provider admin user "${user}" with password: ${password}`);
  console.log('This password is shown only once. Change it with: tenantry user set-password');
}

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const text = (v: unknown) => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
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
