import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { createApiToken, deleteApiToken, listApiTokens, tokenSigningKey } from '../tenancy/api-tokens/api-token.service.js';
import type { AppContext } from '../core/context.js';
import { locateUser, printAs, printTable, withRuntime } from './context.js';
import type { Caller } from '../tenancy/caller.js';

/** The id of a user named by name or UPN (the CLI acts as the provider: every user is in reach). */
async function userIdOf(ctx: AppContext, caller: Caller, name: string): Promise<number> {
  return (await locateUser(ctx, caller, name)).ref.id;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('External API tokens (the user needs the "Service Provider Developer" permission)');
  token
    .command('create')
    .description('create a token for a user; the value is printed once and never stored')
    .requiredOption('--user <name>', 'user name or UPN, e.g. admin_SP')
    .requiredOption('--label <label>', 'what the token is for, e.g. "Power BI"')
    .option('--expires <date>', 'expiry date (ISO), default: never')
    .action(async (opts: { user: string; label: string; expires?: string }) => {
      const expiresAt = opts.expires ? new Date(opts.expires) : undefined;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new InvalidArgumentError('--expires must be a date, e.g. 2027-01-31');
      await withRuntime(async (ctx, caller) => {
        const userId = await userIdOf(ctx, caller, opts.user);
        const { token: value, info } = await inTransaction(ctx.db, (tx) =>
          createApiToken(tx, caller, tokenSigningKey(ctx.secrets), { userId, label: opts.label, ...(expiresAt ? { expiresAt } : {}) }),
        );
        console.log(`token ${info.id} "${info.label}" for ${opts.user} (shown only once; store it like a password):`);
        console.log(value);
      });
    });
  token
    .command('list')
    .description("list a user's tokens (never their values)")
    .requiredOption('--user <name>', 'user name or UPN')
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const tokens = await listApiTokens(ctx.db, caller, await userIdOf(ctx, caller, opts.user));
        printAs(tokens, opts.json, (list) =>
          printTable(list as unknown as Record<string, unknown>[], ['id', 'label', 'createdAt', 'lastUsedAt', 'expiresAt']),
        );
      });
    });
  token
    .command('delete')
    .description('delete (revoke) a token at once')
    .argument('<id>', 'token id from `tenantry token list`')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new InvalidArgumentError('the token id must be a whole number');
      await withRuntime(async (ctx, caller) => {
        await inTransaction(ctx.db, (tx) => deleteApiToken(tx, caller, Number(id)));
        console.log(`token ${id} deleted`);
      });
    });
}
