import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import {
  findCustomers,
  createCustomer,
  getCustomer,
  updateCustomer,
  deleteCustomer,
  type CustomerFields,
} from '../tenancy/customer.service.js';
import { createUser, updateUser, userRoles, type UserFields } from '../tenancy/user.service.js';
import { commandEnv } from './scope.js';
import { idOrName, locateUser, printAs, printDetail, printTable, withRuntime } from './context.js';
import { customerViews, listUsers, showCustomer, showUser } from './tenancy-views.js';
import { queueWelcomeMail } from '../mail/welcome.js';

function nonEmpty(label: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${label} must not be empty.`);
    return value;
  };
}

async function readPassword(option: string | undefined): Promise<string> {
  if (option !== undefined) return option;
  const fromEnv = commandEnv('TENANTRY_NEW_PASSWORD');
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) throw new InvalidArgumentError('give --password, or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new InvalidArgumentError('no password on standard input');
  return text;
}

export function registerTenancyCommands(program: Command): void {
  const customer = program.command('customer').description('list, show, create, edit and delete customers');
  customer
    .command('list')
    .description("list customers (the whole tree, or one customer's children with --parent)")
    .option('--parent <code|id>', 'only the direct children of this customer')
    .option('--json', 'print JSON')
    .action(async (opts: { parent?: string; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const parentId = opts.parent ? (await getCustomer(ctx.db, caller, idOrName(opts.parent))).id : undefined;
        const rows = await findCustomers(ctx.db, caller, parentId !== undefined ? { parentId } : {});
        if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
        const views = await customerViews(ctx, caller, rows);
        printTable(
          views.map((c) => ({ ...c, parent: c.parent ?? '', reseller: c.reseller ? 'yes' : '', enabled: c.enabled ? 'yes' : 'no' })),
          ['id', 'name', 'fullname', 'parent', 'reseller', 'status', 'enabled', 'users'],
        );
      });
    });
  customer
    .command('show')
    .description('one customer: contact, parent, status, counts')
    .argument('<customer>', 'short code or id, e.g. BAC')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const view = await withRuntime((ctx, caller) => showCustomer(ctx, caller, idOrName(ref)));
      printAs(view, opts.json, printDetail);
    });
  customer
    .command('edit')
    .description("change a customer's names, contact, billing identifier or state (a change is provisioned like a CortexAPI SET)")
    .argument('<customer>', 'short code or id, e.g. BAC')
    .option('--fullname <name>', 'full name', nonEmpty('--fullname'))
    .option('--contact-name <name>', 'contact name', nonEmpty('--contact-name'))
    .option('--contact-email <email>', 'contact email', nonEmpty('--contact-email'))
    .option('--billing-id <id>', 'PSA account identifier ("" clears it)')
    .option('--enable', 'enable the customer')
    .option('--disable', 'disable the customer')
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string,
        opts: {
          fullname?: string;
          contactName?: string;
          contactEmail?: string;
          billingId?: string;
          enable?: boolean;
          disable?: boolean;
          json?: boolean;
        },
      ) => {
        if (opts.enable && opts.disable) throw new InvalidArgumentError('give --enable or --disable, not both');
        const fields: CustomerFields = {
          ...(opts.fullname !== undefined ? { fullname: opts.fullname } : {}),
          ...(opts.contactName !== undefined ? { contactName: opts.contactName } : {}),
          ...(opts.contactEmail !== undefined ? { contactEmail: opts.contactEmail } : {}),
          ...(opts.billingId !== undefined ? { billingId: opts.billingId === '' ? null : opts.billingId } : {}),
          ...(opts.enable || opts.disable ? { enabled: Boolean(opts.enable) } : {}),
        };
        if (Object.keys(fields).length === 0) throw new InvalidArgumentError('nothing to change: give at least one option (see --help)');
        const out = await withRuntime(async (ctx, caller) => {
          const { customer: c, requestId } = await inTransaction(ctx.db, (tx) => updateCustomer(tx, caller, idOrName(ref), fields));
          return { customer: await showCustomer(ctx, caller, { id: c.id }), requestId: requestId ?? null };
        });
        printAs(out, opts.json, (o) =>
          console.log(`customer ${o.customer.name} ${o.requestId === null ? 'unchanged' : `changed; provisioning request ${o.requestId}`}`),
        );
      },
    );
  customer
    .command('delete')
    .description('de-provision and delete a customer with its users and services')
    .argument('<customer>', 'short code or id, e.g. BAC')
    .option('--yes', 'confirm: this removes the customer, its users and its services')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { yes?: boolean; json?: boolean }) => {
      if (!opts.yes) throw new InvalidArgumentError(`add --yes to de-provision and delete customer ${ref} with its users and services`);
      const out = await withRuntime(async (ctx, caller) => {
        const target = await getCustomer(ctx.db, caller, idOrName(ref));
        const requestId = await inTransaction(ctx.db, (tx) => deleteCustomer(tx, caller, { id: target.id }));
        return { customer: target.name, requestId };
      });
      printAs(out, opts.json, (o) =>
        console.log(`customer ${o.customer} is being de-provisioned and deleted; provisioning request ${o.requestId}`),
      );
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

  const user = program.command('user').description('list, show, create and edit users; set passwords, disable users');
  user
    .command('list')
    .description('users of one customer, or of every customer')
    .option('--customer <code|id>', "only this customer's users")
    .option('--json', 'print JSON')
    .action(async (opts: { customer?: string; json?: boolean }) => {
      const rows = await withRuntime((ctx, caller) => listUsers(ctx, caller, opts.customer ? idOrName(opts.customer) : undefined));
      printAs(rows, opts.json, (r) =>
        printTable(
          r.map((u) => ({ ...u, enabled: u.enabled ? 'yes' : 'no', lastLoginAt: u.lastLoginAt ?? '' })),
          ['name', 'upn', 'customer', 'roles', 'enabled', 'status', 'lastLoginAt'],
        ),
      );
    });
  user
    .command('show')
    .description('one user: names, mail, roles and the permissions they grant, status, last login')
    .argument('<user>', 'user name or UPN, e.g. User1_BAC')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const view = await withRuntime((ctx, caller) => showUser(ctx, caller, name));
      printAs(view, opts.json, printDetail);
    });
  user
    .command('edit')
    .description("change a user's names, mail address or roles")
    .argument('<user>', 'user name or UPN, e.g. User1_BAC')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--display-name <name>')
    .option('--email <address>', 'the user\'s own mail address ("" clears it)')
    .option('--role <role...>', 'replace the roles, e.g. "Customer Administrator" "Service Provider Developer"')
    .option('--add-role <role...>', 'add roles')
    .option('--remove-role <role...>', 'remove roles')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        opts: {
          firstName?: string;
          lastName?: string;
          displayName?: string;
          email?: string;
          role?: string[];
          addRole?: string[];
          removeRole?: string[];
          json?: boolean;
        },
      ) => {
        if (opts.role && (opts.addRole || opts.removeRole))
          throw new InvalidArgumentError('give --role, or --add-role/--remove-role, not both');
        const out = await withRuntime(async (ctx, caller) => {
          const { customer, ref } = await locateUser(ctx, caller, name);
          let roles = opts.role;
          if (opts.addRole || opts.removeRole) {
            const current = await userRoles(ctx.db, ref.id);
            const removed = new Set((opts.removeRole ?? []).map((r) => r.toLowerCase()));
            roles = [...new Set([...current.filter((r) => !removed.has(r.toLowerCase())), ...(opts.addRole ?? [])])];
          }
          const fields: UserFields = {
            ...(opts.firstName !== undefined ? { firstName: opts.firstName || null } : {}),
            ...(opts.lastName !== undefined ? { lastName: opts.lastName || null } : {}),
            ...(opts.displayName !== undefined ? { displayName: opts.displayName || null } : {}),
            ...(opts.email !== undefined ? { externalEmail: opts.email || null } : {}),
            ...(roles ? { roles } : {}),
          };
          if (Object.keys(fields).length === 0) throw new InvalidArgumentError('nothing to change: give at least one option (see --help)');
          const { requestId } = await inTransaction(ctx.db, (tx) => updateUser(tx, caller, customer, ref, fields));
          return { user: await showUser(ctx, caller, name), requestId: requestId ?? null };
        });
        printAs(out, opts.json, (o) => {
          console.log(`user ${o.user.name} ${o.requestId === null ? 'saved' : `changed; provisioning request ${o.requestId}`}`);
          console.log(`roles: ${o.user.roles.join(', ') || '(none)'}`);
        });
      },
    );
  user
    .command('create')
    .description('create a user in a customer (the first user becomes its administrator)')
    .requiredOption('--customer <code|id>', 'the customer')
    .requiredOption('--name <name>', 'user name without the customer suffix, e.g. User1', nonEmpty('--name'))
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--password <password>', 'initial password (generated and printed when omitted)')
    .option('--role <role...>', 'roles, e.g. "Customer Administrator" "Service Provider Developer"')
    .option('--email <address>', "the user's own mail address (default: its UPN)")
    .option('--welcome-mail', 'mail the user its user name and password (needs TENANTRY_SMTP_URL)')
    .action(
      async (opts: {
        customer: string;
        name: string;
        firstName?: string;
        lastName?: string;
        password?: string;
        role?: string[];
        email?: string;
        welcomeMail?: boolean;
      }) => {
        await withRuntime(async (ctx, caller) => {
          const result = await inTransaction(ctx.db, async (tx) => {
            const created = await createUser(tx, caller, idOrName(opts.customer), {
              name: opts.name,
              ...(opts.firstName ? { firstName: opts.firstName } : {}),
              ...(opts.lastName ? { lastName: opts.lastName } : {}),
              ...(opts.password ? { password: { password: opts.password } } : {}),
              ...(opts.role ? { roles: opts.role } : {}),
              ...(opts.email ? { externalEmail: opts.email } : {}),
            });
            const mailedTo = opts.welcomeMail
              ? await queueWelcomeMail(tx, created.user, opts.password ?? created.generatedPassword!, ctx.provider.fullname)
              : undefined;
            return { ...created, mailedTo };
          });
          console.log(`created user ${result.user.name} (${result.user.upn}); provisioning request ${result.requestId}`);
          if (result.mailedTo) console.log(`welcome mail with the password queued for ${result.mailedTo}`);
          else if (result.generatedPassword) console.log(`password: ${result.generatedPassword} (shown only once)`);
        });
      },
    );
  user
    .command('set-password')
    .description("set a user's password (from --password, $TENANTRY_NEW_PASSWORD or standard input)")
    .argument('<user>', 'user name, e.g. User1_BAC or admin_SP')
    .option('--password <password>')
    .option('--change-at-next-logon', 'force a change at next logon')
    .action(async (name: string, opts: { password?: string; changeAtNextLogon?: boolean }) => {
      const password = await readPassword(opts.password);
      await withRuntime(async (ctx, caller) => {
        const { customer, ref } = await locateUser(ctx, caller, name);
        await inTransaction(ctx.db, (tx) =>
          updateUser(tx, caller, customer, ref, { password: { password, changeAtNextLogon: Boolean(opts.changeAtNextLogon) } }),
        );
        console.log(`password of ${name} changed`);
      });
    });
  for (const [command, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
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
