import type { DB, Tx } from '../core/db/database.js';
import { inTransaction } from '../core/db/database.js';
import { generatePassword, hashPassword, sha256Hex } from '../core/crypto.js';
import { readInstallFact, writeInstallFact } from '../core/install/install-state.js';
import { loadCatalog } from '../catalog/catalog.service.js';
import { DEFAULT_CATALOG } from '../catalog/default-catalog.js';
import { BUILTIN_ROLES, ROLE } from './permissions.js';
import { shortCodeFromFullname } from './short-code.js';
import { getProvider, type Customer } from './customer.service.js';
import { qualifiedUserName } from './user.service.js';

export interface BootstrapResult {
  provider: Customer;
  /** Present only on the first start, when the admin password was generated: print it once. */
  generatedAdminPassword?: string;
  created: boolean;
}

export interface BootstrapOptions {
  providerName: string;
  adminUser: string;
  adminPassword: string | undefined;
}

/** First start creates the provider, its admin and the default catalog; later starts change nothing. */
export async function bootstrap(db: DB, opts: BootstrapOptions): Promise<BootstrapResult> {
  return inTransaction(db, async (tx) => {
    await ensureBuiltInDefaults(tx);
    const existing = await getProvider(tx);
    if (existing) return { provider: existing, created: false };
    const code = shortCodeFromFullname(opts.providerName);
    const domain = `${code.toLowerCase()}.local`;
    const inserted = await tx
      .insertInto('customers')
      .values({
        parent_id: null,
        path: '',
        depth: 0,
        name: code,
        fullname: opts.providerName,
        contact_name: opts.adminUser,
        contact_email: `${opts.adminUser}@${domain}`,
        primary_domain: domain,
        is_reseller: true,
        status: 'Provisioned',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('customers')
      .set({ path: `/${inserted.id}/` })
      .where('id', '=', inserted.id)
      .execute();
    const generated = opts.adminPassword ? undefined : generatePassword();
    const admin = await tx
      .insertInto('users')
      .values({
        customer_id: inserted.id,
        name: qualifiedUserName(opts.adminUser, code),
        upn: `${opts.adminUser}@${domain}`,
        display_name: 'Administrator',
        password_hash: await hashPassword(opts.adminPassword ?? generated!),
        status: 'Provisioned',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const role = await tx.selectFrom('roles').select('id').where('name', '=', ROLE.providerAdmin).executeTakeFirstOrThrow();
    await tx.insertInto('user_roles').values({ user_id: admin.id, role_id: role.id }).execute();
    const provider = (await getProvider(tx))!;
    return { provider, created: true, ...(generated ? { generatedAdminPassword: generated } : {}) };
  });
}

const BUILT_IN_DEFAULTS = sha256Hex(JSON.stringify([BUILTIN_ROLES, DEFAULT_CATALOG]));

/**
 * The built-in roles and the default catalog, loaded again only when this build's differ from the
 * ones last loaded (an upgrade): a start on an unchanged install skips a few hundred statements.
 */
export async function ensureBuiltInDefaults(tx: Tx): Promise<void> {
  if ((await readInstallFact(tx, 'built_in_defaults.fingerprint')) === BUILT_IN_DEFAULTS) return;
  await ensureRoles(tx);
  await loadCatalog(tx, DEFAULT_CATALOG);
  await writeInstallFact(tx, 'built_in_defaults.fingerprint', BUILT_IN_DEFAULTS);
}

async function ensureRoles(tx: Tx): Promise<void> {
  for (const [name, def] of Object.entries(BUILTIN_ROLES)) {
    const role = await tx
      .insertInto('roles')
      .values({ name, description: def.description, builtin: true })
      .onConflict((oc) => oc.column('name').doUpdateSet({ builtin: true }))
      .returning('id')
      .executeTakeFirstOrThrow();
    if (def.permissions.length) {
      await tx
        .insertInto('role_permissions')
        .values(def.permissions.map((permission) => ({ role_id: role.id, permission })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
}
