import { sql, type CompiledQuery, type QueryId } from 'kysely';
import { inTransaction, type DB, type Tx } from '../src/core/db/database.js';
import { hashPassword } from '../src/core/crypto.js';
import { systemCaller, type Caller } from '../src/tenancy/caller.js';
import { createUser } from '../src/tenancy/user.service.js';
import { createCustomer, findCustomers } from '../src/tenancy/customer.service.js';
import { BENCH_PASSWORD, benchDatabase, ENGINES, rate, ratio } from './support.js';
import { bySize } from './size.js';
import type { Bench } from './run.js';

/** Customers created per second through the domain path (beside bare row inserts), and subtree reads on a 10k-customer tree. */
export const tenancyBench: Bench = {
  name: 'tenancy',
  async run() {
    const resellers = bySize({ quick: 4, default: 20 });
    const perReseller = bySize({ quick: 49, default: 499 });
    const timedUntil = bySize({ quick: 200, default: 2000 });
    const treeSize = bySize({ quick: 1000, default: 10_000 });
    const reads = bySize({ quick: 20, default: 200 });
    for (const engine of ENGINES) {
      const { database, provider } = await benchDatabase(engine);
      const caller = systemCaller(provider);
      let created = 0;
      const started = performance.now();
      const resellerIds: number[] = [];
      for (let r = 0; r < resellers; r++) {
        const { customer } = await inTransaction(database.db, (tx) =>
          createCustomer(tx, caller, {
            fullname: `Reseller ${r}`,
            contactName: 'c',
            contactEmail: 'c@c',
            primaryDomain: `r${r}.example`,
            isReseller: true,
          }),
        );
        resellerIds.push(customer.id);
        created++;
      }
      for (let r = 0; r < resellers; r++) {
        for (let i = 0; i < perReseller; i++) {
          if (created < timedUntil) {
            await inTransaction(database.db, (tx) =>
              createCustomer(tx, caller, {
                fullname: `Customer ${r} ${i}`,
                contactName: 'c',
                contactEmail: 'c@c',
                primaryDomain: `c${r}-${i}.example`,
                parent: { id: resellerIds[r]! },
              }),
            );
            created++;
          }
        }
      }
      const createMs = performance.now() - started;
      // The rest of the 10k tree is bulk-loaded so the read benchmark runs on the full size.
      await sql`
        insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, status)
        select r.id, r.path, 2, 'B' || g || '-' || r.id, 'Bulk ' || g || ' of ' || r.id, 'c', 'c@c', 'bulk.example', 'Provisioned'
        from customers r cross join generate_series(1, ${Math.ceil((treeSize - created) / resellers)}) g
        where r.id in (${sql.join(resellerIds)})
      `.execute(database.db);
      await sql`update customers set path = path || id || '/' where name like 'B%-%' and path not like '%/' || id || '/'`.execute(
        database.db,
      );
      const total = Number(
        (
          await database.db
            .selectFrom('customers')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      const readers = resellerIds.map((id) => ({ ...caller, customerId: id, customerPath: `${provider.path}${id}/` }));
      const readStart = performance.now();
      let rows = 0;
      for (let i = 0; i < reads; i++) rows += (await findCustomers(database.db, readers[i % readers.length]!)).length;
      const readMs = performance.now() - readStart;
      const baselineMs = await bareCustomerInserts(database.db, provider.id, provider.path, created);
      console.log(
        `[${engine}] customers created (domain path, one transaction each): ${created} in ${Math.round(createMs)} ms = ${rate(created, createMs)}`,
      );
      console.log(
        `[${engine}] baseline, a bare customer row insert per transaction: ${rate(created, baselineMs)} → domain path/baseline = ${ratio(created / createMs, created / baselineMs)}`,
      );
      await countStatements(database.db, caller, engine);
      await userCreates(database.db, caller, engine, bySize({ quick: 3, default: 30 }));
      console.log(
        `[${engine}] subtree reads on a ${total}-customer tree (reseller scope, ~${Math.round(rows / reads)} rows each): ${rate(reads, readMs)}`,
      );
      await database.close();
    }
  },
};

/**
 * Database round trips of one customer create and one user create: statements built by the domain
 * code (counted by a plugin), statements sent as they are (the queue job's, through executeQuery),
 * and the transaction's begin and commit.
 */
async function countStatements(db: DB, caller: Caller, engine: string): Promise<void> {
  let built = 0;
  let sent = 0;
  const counting = db.withPlugin({ transformQuery: (args) => (built++, args.node), transformResult: async (args) => args.result });
  const counted = <T>(work: (tx: Tx) => Promise<T>) =>
    inTransaction(counting, (tx) => {
      const execute = tx.executeQuery.bind(tx);
      tx.executeQuery = ((query: CompiledQuery, id?: QueryId) => (sent++, execute(query, id))) as typeof tx.executeQuery;
      return work(tx);
    });
  const trips = () => `${built} built + ${sent} sent as they are + begin and commit = ${built + sent + 2} round trips`;
  const { customer } = await counted((tx) =>
    createCustomer(tx, caller, { fullname: 'Counted Customer', contactName: 'c', contactEmail: 'c@c', primaryDomain: 'counted.example' }),
  );
  console.log(`[${engine}] one customer create (its ledger row, provisioning request and queue job included): ${trips()}`);
  built = sent = 0;
  await counted((tx) => createUser(tx, caller, customer, { name: 'Counted', password: { password: BENCH_PASSWORD } }));
  console.log(`[${engine}] one user create (password hash, role, ledger row, provisioning request and queue job included): ${trips()}`);
}

/**
 * Users created per second through the domain path, beside scrypt alone: the password hash is a
 * security parameter (its cost is the point), so it is the floor of a user create.
 */
async function userCreates(db: DB, caller: Caller, engine: string, count: number): Promise<void> {
  const { customer } = await inTransaction(db, (tx) =>
    createCustomer(tx, caller, { fullname: 'User Host', contactName: 'c', contactEmail: 'c@c', primaryDomain: 'users.example' }),
  );
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await inTransaction(db, (tx) => createUser(tx, caller, customer, { name: `u${i}`, password: { password: BENCH_PASSWORD } }));
  }
  const ms = performance.now() - started;
  const hashStart = performance.now();
  for (let i = 0; i < count; i++) await hashPassword(BENCH_PASSWORD);
  const hashMs = performance.now() - hashStart;
  console.log(
    `[${engine}] users created (domain path, one transaction each): ${rate(count, ms)}; scrypt alone: ${rate(count, hashMs)} → users/scrypt = ${ratio(count / ms, count / hashMs)}`,
  );
}

/** The floor for a customer write: one plain row insert in its own transaction, `count` times. */
async function bareCustomerInserts(db: DB, parentId: number, parentPath: string, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await inTransaction(db, (tx) =>
      sql`insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, status)
          values (${parentId}, ${parentPath}, 1, ${`BASE${i}`}, ${`Baseline ${i}`}, 'c', 'c@c', 'base.example', 'Provisioned')`.execute(tx),
    );
  }
  const ms = performance.now() - started;
  await sql`delete from customers where name like 'BASE%'`.execute(db);
  return ms;
}
