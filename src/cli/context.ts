import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import type { AppContext } from '../core/context.js';
import { systemCaller, type Caller } from '../tenancy/caller.js';

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
