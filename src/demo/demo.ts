import { generatePassword } from '../core/crypto.js';
import type { AppContext } from '../core/context.js';
import { inTransaction } from '../core/db/database.js';
import type { Caller } from '../tenancy/caller.js';
import { createCustomer, findCustomer, type Customer } from '../tenancy/customer.service.js';
import { createUser, getUser } from '../tenancy/user.service.js';
import { provisionCustomerService, provisionUserService } from '../services/service-assignment.service.js';

interface DemoCustomer {
  fullname: string;
  domain: string;
  reseller?: boolean;
  billingId: string;
  parent?: string;
  users: string[];
  services: { code: string; plan?: string; userPlans?: string[]; properties?: Record<string, string>; users?: Record<string, string[]> }[];
}

/** A small reseller tree, so a new operator sees customers, users and services at once. */
const DEMO: DemoCustomer[] = [
  // A reseller resells only what is provisioned to it.
  {
    fullname: 'Northwind Reseller',
    domain: 'northwind.example',
    reseller: true,
    billingId: '0',
    users: ['nwadmin'],
    services: [{ code: 'Reseller' }, { code: 'HE' }, { code: 'FSS', properties: { FileShareServer: 'NWFILE01' } }],
  },
  {
    fullname: 'Fabrikam Incorporated',
    domain: 'fabrikam.example',
    parent: 'Northwind Reseller',
    billingId: '29683490',
    users: ['alice', 'bob', 'carol'],
    services: [
      {
        code: 'HE',
        plan: 'Basic',
        userPlans: ['Ex10 Basic', 'Ex10 Full'],
        users: { alice: ['Ex10 Full'], bob: ['Ex10 Basic'], carol: ['Ex10 Basic'] },
      },
      {
        code: 'FSS',
        plan: 'FULL',
        userPlans: ['Full', 'Read'],
        properties: { FileShareServer: 'FABFILE01' },
        users: { alice: ['Full'], bob: ['Read'] },
      },
    ],
  },
  {
    fullname: 'Adventure Works',
    domain: 'adventure-works.example',
    parent: 'Northwind Reseller',
    billingId: '29683491',
    users: ['dave', 'erin'],
    services: [{ code: 'HE', plan: 'Standard', userPlans: ['Ex10 Basic'], users: { dave: ['Ex10 Basic'], erin: ['Ex10 Basic'] } }],
  },
  {
    fullname: 'Tailspin Toys',
    domain: 'tailspin.example',
    billingId: '29683492',
    users: ['frank'],
    services: [{ code: 'HostedAppsandDesktops', userPlans: ['Desktops', 'Office Apps'], users: { frank: ['Desktops', 'Office Apps'] } }],
  },
];

/**
 * Loads the demo tree. Each demo user gets a generated password, listed in the answer (shown once),
 * unless `password` gives them all the same one (`tenantry demo --password`): never a fixed,
 * undocumented password that anyone could sign in with.
 */
export async function loadDemo(
  ctx: AppContext,
  caller: Caller,
  opts: { password?: string; onProgress?: (line: string) => void } = {},
): Promise<string> {
  let created = 0;
  const logins: string[] = [];
  for (const [i, d] of DEMO.entries()) {
    const step = `${i + 1}/${DEMO.length}`;
    if (await findCustomer(ctx.db, caller, { fullname: d.fullname })) {
      opts.onProgress?.(`${step} ${d.fullname}: already there`);
      continue;
    }
    opts.onProgress?.(`${step} ${d.fullname}: ${d.users.length} user(s), ${d.services.length} service(s)…`);
    await inTransaction(ctx.db, async (tx) => {
      const { customer } = await createCustomer(tx, caller, {
        fullname: d.fullname,
        contactName: 'Demo Contact',
        contactEmail: `contact@${d.domain}`,
        primaryDomain: d.domain,
        billingId: d.billingId,
        accountCode: `ACC-${d.billingId}`,
        isReseller: Boolean(d.reseller),
        ...(d.parent ? { parent: { fullname: d.parent } } : {}),
      });
      for (const u of d.users) {
        const password = opts.password ?? generatePassword();
        const { user } = await createUser(tx, caller, customer, {
          name: u,
          firstName: u[0]!.toUpperCase() + u.slice(1),
          lastName: 'Demo',
          password: { password },
        });
        logins.push(`  ${user.name}  ${opts.password === undefined ? password : '(the password given)'}`);
      }
      await provisionServices(tx, caller, customer, d);
    });
    created++;
  }
  if (!created) return 'demo data already present';
  return [`demo data loaded: ${created} customers with users and services; demo users (shown once):`, ...logins].join('\n');
}

async function provisionServices(tx: Parameters<typeof createUser>[0], caller: Caller, customer: Customer, d: DemoCustomer): Promise<void> {
  for (const s of d.services) {
    await provisionCustomerService(tx, caller, customer, {
      service: { name: s.code },
      ...(s.plan ? { plan: { name: s.plan } } : {}),
      ...(s.properties ? { properties: s.properties } : {}),
      userPlans: (s.userPlans ?? []).map((p) => ({ plan: { fullname: p }, enabled: true })),
    });
    for (const [userName, plans] of Object.entries(s.users ?? {})) {
      const user = await getUser(tx, caller, customer, { name: userName });
      await provisionUserService(tx, caller, customer, user, { service: { name: s.code }, userPlans: plans.map((p) => ({ fullname: p })) });
    }
  }
}
