import { sql } from 'kysely';
import { inTransaction, type DB } from '../src/core/db/database.js';
import { systemCaller, type Caller } from '../src/tenancy/caller.js';
import { createCustomer, findCustomers, type Customer } from '../src/tenancy/customer.service.js';
import { createUser } from '../src/tenancy/user.service.js';
import { hashPassword } from '../src/core/crypto.js';
import { setBillingSettings } from '../src/billing/periods/bill-periods.js';
import { runBilling } from '../src/billing/run/run-billing.js';
import { addNoSkuRule } from '../src/billing/rules/billing-rules.js';
import { buildServer } from '../src/api/server.js';
import { loadConfig } from '../src/core/config.js';
import { SecretBox } from '../src/core/crypto.js';
import { createLogger } from '../src/core/logger.js';
import { BENCH_ENV, BENCH_PASSWORD, benchDatabase, rate } from './support.js';
import { seedLedger, streamDetail } from './billing.bench.js';
import { BENCH_SIZE, bySize } from './size.js';
import type { Bench } from './run.js';

/**
 * The scale point an MSP sizes its server by (README → Operations): at `--large` 1M users across
 * 100k customers under 10 resellers on PostgreSQL, one customer with 5,000 users, a month of
 * ledger — then the billing run, a reseller's subtree read, a FIND of the big customer's users and
 * the period's detail stream, each with its figure. The rows are bulk-loaded with set-based SQL,
 * in the shape the domain path writes them (checked against rows it wrote).
 */
export const scaleBench: Bench = {
  name: 'scale',
  async run() {
    const size = bySize({
      quick: { customers: 200, users: 2_000, resellers: 4, bigUsers: 500 },
      default: { customers: 10_000, users: 100_000, resellers: 10, bigUsers: 5_000 },
      large: { customers: 100_000, users: 1_000_000, resellers: 10, bigUsers: 5_000 },
    });
    const { database, provider } = await benchDatabase('postgres');
    const db = database.db;
    const caller = systemCaller(provider, 'bench');
    try {
      const loadStart = performance.now();
      const resellers = await seedTree(db, provider, size);
      const ledgerRows = await seedLedger(db);
      await checkShape(db, caller, resellers[0]!);
      await sql`analyze`.execute(db);
      console.log(
        `[postgres] loaded ${size.customers.toLocaleString('en-US')} customers under ${size.resellers} resellers, ${size.users.toLocaleString('en-US')} users (one customer with ${size.bigUsers.toLocaleString('en-US')}), ${ledgerRows.toLocaleString('en-US')} ledger rows in ${seconds(performance.now() - loadStart)} (${BENCH_SIZE})`,
      );

      await inTransaction(db, (tx) =>
        setBillingSettings(tx, caller, { timeZone: 'UTC', kind: 'month_end', day: 0 }, new Date('2024-05-01T00:00:00Z')),
      );
      await inTransaction(db, (tx) => addNoSkuRule(tx, caller));
      const billStart = performance.now();
      const [bill] = await runBilling(db, caller, { period: '2024-06-30', now: new Date('2024-07-02T00:00:00Z') });
      const billMs = performance.now() - billStart;
      console.log(
        `[postgres] billing run of the month: ${bill!.items.toLocaleString('en-US')} items in ${seconds(billMs)} = ${rate(bill!.items, billMs)}`,
      );

      const reseller = resellers[0]!;
      const resellerCaller: Caller = { ...caller, customerId: reseller.id, customerPath: reseller.path };
      const subtree = await medianOf(5, async () => (await findCustomers(db, resellerCaller)).length);
      console.log(
        `[postgres] subtree read of a reseller with ${subtree.value.toLocaleString('en-US')} customers (findCustomers): median ${subtree.ms} ms`,
      );

      const found = await findBigCustomersUsers(database, provider);
      console.log(
        `[postgres] CortexAPI FIND of a customer's ${found.value.toLocaleString('en-US')} users (XML over the wire, read cache off): median ${found.ms} ms`,
      );

      const stream = await streamDetail('postgres', database, provider, caller);
      console.log(
        `[postgres] scale point detail stream: ${stream.rows.toLocaleString('en-US')} rows in ${seconds(stream.ms)}, RSS growth ${stream.rssGrowthMb} MB`,
      );
    } finally {
      await database.close();
    }
  },
};

interface ScaleSize {
  customers: number;
  users: number;
  resellers: number;
  bigUsers: number;
}

/**
 * Resellers BR1…, customers BC1… spread evenly under them (BC1, the big one, under BR1), users
 * u<n>_BC<k>: the first `bigUsers` in BC1, the rest round the others. Every user has the User
 * role and the same (real) password hash, as a user created with that password would.
 */
async function seedTree(db: DB, provider: Customer, size: ScaleSize): Promise<Customer[]> {
  await sql`
    insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, is_reseller, status)
    select ${provider.id}, ${provider.path}, 1, 'BR' || g, 'Bench Reseller ' || g, 'c', 'c@c', 'br' || g || '.example', true, 'Provisioned'
    from generate_series(1, ${size.resellers}) g`.execute(db);
  await sql`update customers set path = path || id || '/' where name like 'BR%' and path = ${provider.path}`.execute(db);
  const perReseller = Math.ceil(size.customers / size.resellers);
  await sql`
    insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, status)
    select r.id, r.path, 2, 'BC' || g, 'Bench Customer ' || g, 'c', 'c@c', 'bc' || g || '.example', 'Provisioned'
    from generate_series(1, ${size.customers}) g
    join customers r on r.name = 'BR' || ((g - 1) / ${perReseller} + 1)`.execute(db);
  await sql`update customers set path = path || id || '/' where name like 'BC%' and depth = 2`.execute(db);
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const others = size.customers - 1;
  await sql`
    insert into users (customer_id, name, upn, first_name, last_name, display_name, password_hash, status)
    select c.id, 'u' || g || '_' || c.name, 'u' || g || '@' || c.primary_domain, 'User', g::text, 'User ' || g, ${passwordHash}, 'Provisioned'
    from generate_series(0, ${size.users - 1}) g
    join customers c on c.name = 'BC' || case when g < ${size.bigUsers} then 1 else 2 + (g - ${size.bigUsers}) % ${others} end`.execute(db);
  await sql`
    insert into user_roles (user_id, role_id)
    select u.id, r.id from users u cross join roles r where r.name = 'User' and u.name like 'u%\\_BC%'`.execute(db);
  return db
    .selectFrom('customers')
    .selectAll()
    .where('name', 'like', 'BR%')
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, id: r.id, path: r.path }) as unknown as Customer));
}

/**
 * The bulk rows must be what the domain path writes: a customer and a user created through it
 * under the first reseller must leave the same columns empty as the bulk rows do.
 */
async function checkShape(db: DB, caller: Caller, reseller: Customer): Promise<void> {
  const made = await inTransaction(db, async (tx) => {
    const { customer } = await createCustomer(tx, caller, {
      name: 'SHAPE',
      fullname: 'Shape Check',
      contactName: 'c',
      contactEmail: 'c@c',
      primaryDomain: 'shape.example',
      parent: { id: reseller.id },
    });
    const { user } = await createUser(tx, caller, customer, {
      name: 'u0',
      firstName: 'User',
      lastName: '0',
      displayName: 'User 0',
      password: { password: BENCH_PASSWORD },
    });
    return { customerId: customer.id, userId: user.id };
  });
  const bulkUser = await db.selectFrom('users').select('users.id').where('name', 'like', 'u%\\_BC2').executeTakeFirstOrThrow();
  const bulkCustomer = await db.selectFrom('customers').select('id').where('name', '=', 'BC2').executeTakeFirstOrThrow();
  for (const [table, domainId, bulkId] of [
    ['customers', made.customerId, bulkCustomer.id],
    ['users', made.userId, bulkUser.id],
  ] as const) {
    const row = async (id: number) =>
      (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where id = ${id}`.execute(db)).rows[0]!;
    const [domain, bulk] = [await row(domainId), await row(bulkId)];
    const differs = Object.keys(domain).filter((k) => (bulk[k] === null) !== (domain[k] === null));
    if (differs.length)
      throw new Error(`bulk-loaded ${table} differ from the domain path's in which columns are empty: ${differs.join(', ')}`);
  }
  await sql`delete from user_roles where user_id = ${made.userId}`.execute(db);
}

async function findBigCustomersUsers(
  database: Awaited<ReturnType<typeof benchDatabase>>['database'],
  provider: Customer,
): Promise<{ value: number; ms: number }> {
  const ctx = {
    config: { ...loadConfig(BENCH_ENV), port: 0, host: '127.0.0.1', cortexReadCache: false },
    database,
    db: database.db,
    secrets: SecretBox.fromKey(Buffer.alloc(32, 7)),
    logger: createLogger('silent'),
    provider,
  };
  const app = await buildServer(ctx);
  const auth = 'Basic ' + Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64');
  const find = async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/CortexAPI/Default.aspx',
      headers: { authorization: auth, 'content-type': 'text/xml' },
      payload:
        '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="FIND"><customer><name>BC1</name><user/></customer></request>',
    });
    if (res.statusCode !== 200) throw new Error(`FIND answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    return res.body.split('<user>').length - 1;
  };
  await find(); // the first verifies the password
  try {
    return await medianOf(5, find);
  } finally {
    await app.close();
  }
}

async function medianOf(times: number, fn: () => Promise<number>): Promise<{ value: number; ms: number }> {
  const ms: number[] = [];
  let value = 0;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    value = await fn();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { value, ms: Math.round(ms[Math.floor(times / 2)]!) };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
