import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { findCustomers, createCustomer, getCustomer } from '../tenancy/customer.service.js';
import { createUser, updateUser } from '../tenancy/user.service.js';
import { idOrName, locateUser, printTable, withRuntime } from './context.js';

function nonEmpty(label: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${label} must not be empty.`);
    return value;
  };
}

async function readPassword(option: string | undefined): Promise<string> {
  if (option !== undefined) return option;
  if (process.env.TENANTRY_NEW_PASSWORD) return process.env.TENANTRY_NEW_PASSWORD;
  if (process.stdin.isTTY) throw new InvalidArgumentError('give --password, or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!text) throw new InvalidArgumentError('no password on standard input');
  return text;
}

export function registerTenancyCommands(program: Command): void {
  const customer = program.command('customer').description('list and create customers');
  customer
    .command('list')
    .description('list customers (the whole tree, or one customer\'s children with --parent)')
    .option('--parent <code|id>', 'only the direct children of this customer')
    .option('--json', 'print JSON')
    .action(async (opts: { parent?: string; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const parentId = opts.parent ? (await getCustomer(ctx.db, caller, idOrName(opts.parent))).id : undefined;
        const rows = await findCustomers(ctx.db, caller, parentId !== undefined ? { parentId } : {});
        if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
        printTable(
          rows.map((c) => ({ id: c.id, name: c.name, fullname: c.fullname, parent: c.parentId ?? '', reseller: c.isReseller ? 'yes' : '', status: c.status, enabled: c.enabled ? 'yes' : 'no' })),
          ['id', 'name', 'fullname', 'parent', 'reseller', 'status', 'enabled'],
        );
      });
    });
  customer
    .command('create')
    .description('create a customer under the provider or a reseller')
    .requiredOption('--fullname <name>', 'full name, e.g. "Basic API Customer"', nonEmpty('--fullname'))
    .requiredOption('--contact-name <name>', 'contact name', nonEmpty('--contact-name'))
    .requiredOption('--contact-email <email>', 'contact email', nonEmpty('--contact-email'))
    .requiredOption('--domain <domain>', 'primary domain, e.g. csm.local', nonEmpty('--domain'))
    .option('--name <code>', 'short code (generated from the full name when omitted)')
    .option('--parent <code|id>', 'parent reseller (default: the provider)')
    .option('--reseller', 'the customer is a reseller and may have customers')
    .option('--bill-to-parent', 'bill this customer to its reseller')
    .option('--billing-id <id>', 'PSA account identifier')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      await withRuntime(async (ctx, caller) => {
        const { customer: c, requestId } = await inTransaction(ctx.db, (tx) =>
          createCustomer(tx, caller, {
            fullname: opts.fullname as string,
            contactName: opts.contactName as string,
            contactEmail: opts.contactEmail as string,
            primaryDomain: opts.domain as string,
            ...(opts.name ? { name: opts.name as string } : {}),
            ...(opts.parent ? { parent: idOrName(opts.parent as string) } : {}),
            isReseller: Boolean(opts.reseller),
            billToParent: Boolean(opts.billToParent),
            ...(opts.billingId ? { billingId: opts.billingId as string } : {}),
          }),
        );
        console.log(`created customer ${c.name} (id ${c.id}); provisioning request ${requestId}`);
      });
    });

  const user = program.command('user').description('create users, set passwords, disable users');
  user
    .command('create')
    .description('create a user in a customer (the first user becomes its administrator)')
    .requiredOption('--customer <code|id>', 'the customer')
    .requiredOption('--name <name>', 'user name without the customer suffix, e.g. User1', nonEmpty('--name'))
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--password <password>', 'initial password (generated and printed when omitted)')
    .option('--role <role...>', 'roles, e.g. "Customer Administrator" "Service Provider Developer"')
    .action(async (opts: { customer: string; name: string; firstName?: string; lastName?: string; password?: string; role?: string[] }) => {
      await withRuntime(async (ctx, caller) => {
        const result = await inTransaction(ctx.db, (tx) =>
          createUser(tx, caller, idOrName(opts.customer), {
            name: opts.name,
            ...(opts.firstName ? { firstName: opts.firstName } : {}),
            ...(opts.lastName ? { lastName: opts.lastName } : {}),
            ...(opts.password ? { password: { password: opts.password } } : {}),
            ...(opts.role ? { roles: opts.role } : {}),
          }),
        );
        console.log(`created user ${result.user.name} (${result.user.upn}); provisioning request ${result.requestId}`);
        if (result.generatedPassword) console.log(`password: ${result.generatedPassword} (shown only once)`);
      });
    });
  user
    .command('set-password')
    .description('set a user\'s password (from --password, $TENANTRY_NEW_PASSWORD or standard input)')
    .argument('<user>', 'user name, e.g. User1_BAC or admin_SP')
    .option('--password <password>')
    .option('--change-at-next-logon', 'force a change at next logon')
    .action(async (name: string, opts: { password?: string; changeAtNextLogon?: boolean }) => {
      const password = await readPassword(opts.password);
      await withRuntime(async (ctx, caller) => {
        const { customer, ref } = await locateUser(ctx, caller, name);
        await inTransaction(ctx.db, (tx) => updateUser(tx, caller, customer, ref, { password: { password, changeAtNextLogon: Boolean(opts.changeAtNextLogon) } }));
        console.log(`password of ${name} changed`);
      });
    });
  for (const [command, enabled] of [['disable', false], ['enable', true]] as const) {
    user
      .command(command)
      .description(`${command} a user`)
      .argument('<user>', 'user name, e.g. User1_BAC')
      .action(async (name: string) => {
        await withRuntime(async (ctx, caller) => {
          const { customer, ref } = await locateUser(ctx, caller, name);
          await inTransaction(ctx.db, (tx) => updateUser(tx, caller, customer, ref, { enabled }));
          console.log(`user ${name} ${command}d`);
        });
      });
  }
}
