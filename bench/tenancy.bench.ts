import { sql } from 'kysely';
import { inTransaction } from '../src/core/db/database.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { createCustomer, findCustomers } from '../src/tenancy/customer.service.js';
import { benchDatabase, rate } from './support.js';
import type { Bench } from './run.js';

/** Customers created per second through the domain path, and subtree reads on a 10k-customer tree. */
export const tenancyBench: Bench = {
  name: 'tenancy',
  async run() {
    for (const engine of ['pglite', 'postgres'] as const) {
      const { database, provider } = await benchDatabase(engine);
      const caller = systemCaller(provider);
      const resellers = 20;
      const perReseller = 499;
      let created = 0;
      const started = performance.now();
      const resellerIds: number[] = [];
      for (let r = 0; r < resellers; r++) {
        const { customer } = await inTransaction(database.db, (tx) =>
          createCustomer(tx, caller, { fullname: `Reseller ${r}`, contactName: 'c', contactEmail: 'c@c', primaryDomain: `r${r}.example`, isReseller: true }),
        );
        resellerIds.push(customer.id);
        created++;
      }
      const timedUntil = 2000;
      for (let r = 0; r < resellers; r++) {
        for (let i = 0; i < perReseller; i++) {
          if (created < timedUntil) {
            await inTransaction(database.db, (tx) =>
              createCustomer(tx, caller, { fullname: `Customer ${r} ${i}`, contactName: 'c', contactEmail: 'c@c', primaryDomain: `c${r}-${i}.example`, parent: { id: resellerIds[r]! } }),
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
        from customers r cross join generate_series(1, ${Math.ceil((10_000 - created) / resellers)}) g
        where r.id in (${sql.join(resellerIds)})
      `.execute(database.db);
      await sql`update customers set path = path || id || '/' where name like 'B%-%' and path not like '%/' || id || '/'`.execute(database.db);
      const total = Number((await database.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const readers = resellerIds.map((id) => ({ ...caller, customerId: id, customerPath: `${provider.path}${id}/` }));
      const reads = 200;
      const readStart = performance.now();
      let rows = 0;
      for (let i = 0; i < reads; i++) rows += (await findCustomers(database.db, readers[i % readers.length]!)).length;
      const readMs = performance.now() - readStart;
      console.log(`[${engine}] customers created (domain path, one transaction each): ${created} in ${Math.round(createMs)} ms = ${rate(created, createMs)}`);
      console.log(`[${engine}] subtree reads on a ${total}-customer tree (reseller scope, ~${Math.round(rows / reads)} rows each): ${rate(reads, readMs)}`);
      await database.close();
    }
  },
};
