import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { inTransaction } from '../src/core/db/database.js';
import { loadConfig } from '../src/core/config.js';
import { BENCH_ENV } from './support.js';
import { SecretBox } from '../src/core/crypto.js';
import { createLogger } from '../src/core/logger.js';
import type { AppContext } from '../src/core/context.js';
import { buildServer } from '../src/api/server.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { createCustomer, getCustomer, type Customer } from '../src/tenancy/customer.service.js';
import { sql } from 'kysely';
import { createUser } from '../src/tenancy/user.service.js';
import { customerServicesOf, provisionCustomerService, provisionUserService } from '../src/services/service-assignment.service.js';
import { benchDatabase, ENGINES, type BenchEngine } from './support.js';
import { bySize } from './size.js';
import type { Bench } from './run.js';

interface LoadResult {
  requests: { average: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<LoadResult>;
// autocannon ships no type declarations; only the fields printed below are used.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const PASSWORD = 'Bench-Passw0rd!';
const FIND_CUSTOMERS = '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="FIND"><customer/></request>';
const GET_CUSTOMER =
  '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><customer><name>BAC</name><service><name>HE</name></service><service><name>FSS</name></service></customer></request>';

/**
 * CortexAPI GET of one customer with two services over loopback, beside (a) a bare Fastify route
 * returning a constant and (b) a bare Fastify route making the same domain reads and answering
 * JSON — so the figure shows what the XML layer (auth, parse, serialize) costs.
 */
export const cortexBench: Bench = {
  name: 'cortex',
  async run() {
    for (const engine of ENGINES) await measure(engine);
  },
};

const SECONDS = bySize({ quick: 1, default: 5 });

async function measure(engine: BenchEngine): Promise<void> {
  const { database, provider } = await benchDatabase(engine);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-bench-'));
  const ctx: AppContext = {
    config: { ...loadConfig(BENCH_ENV), dataDir, port: 0, host: '127.0.0.1', inProcessWorkers: false },
    database,
    db: database.db,
    secrets: SecretBox.load(undefined, dataDir),
    logger: createLogger('silent'),
    provider,
  };
  const caller = systemCaller(provider);
  await inTransaction(database.db, async (tx) => {
    const { customer } = await createCustomer(tx, caller, {
      name: 'BAC',
      fullname: 'Basic API Customer',
      contactName: 'Admin',
      contactEmail: 'Admin@csm.local',
      primaryDomain: 'csm.local',
    });
    const { user } = await createUser(tx, caller, customer, { name: 'User1', password: { password: PASSWORD } });
    await provisionCustomerService(tx, caller, customer, {
      service: { name: 'HE' },
      plan: { name: 'Basic' },
      userPlans: [{ plan: { fullname: 'Ex10 Basic' }, enabled: true }],
    });
    await provisionCustomerService(tx, caller, customer, {
      service: { name: 'FSS' },
      properties: { FileShareServer: 'FILE01' },
      userPlans: [{ plan: { name: 'FULL' }, enabled: true }],
    });
    await provisionUserService(tx, caller, customer, user, { service: { name: 'HE' } });
  });

  await countQueries(ctx, provider);
  const api = await buildServer(ctx);
  const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
  // The same server without the read cache: what a first read (or a server database) costs.
  const uncached = await buildServer({ ...ctx, config: { ...ctx.config, cortexReadCache: false } });
  const uncachedUrl = await uncached.listen({ host: '127.0.0.1', port: 0 });
  const bare = Fastify();
  bare.get('/bare', async () => 'ok');
  bare.get('/domain', async () => {
    const customer = await getCustomer(database.db, caller, { name: 'BAC' });
    return { customer, services: await customerServicesOf(database.db, customer) };
  });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  const auth = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
  // Each target is warmed first (JIT, pool connections, the first password verification), then measured.
  const run = async (url: string, extra: Record<string, unknown> = {}) => {
    await autocannon({ url, connections: 10, amount: bySize({ quick: 50, default: 300 }), ...extra });
    return autocannon({ url, connections: 10, duration: SECONDS, ...extra });
  };
  const results = {
    'bare route (constant)': await run(`${bareUrl}/bare`),
    'bare route (same domain reads, JSON)': await run(`${bareUrl}/domain`),
    'CortexAPI GET customer + 2 services': await run(`${apiUrl}/CortexAPI/Default.aspx`, {
      method: 'POST',
      body: GET_CUSTOMER,
      headers: { authorization: auth, 'content-type': 'text/xml' },
    }),
    'CortexAPI GET customer + 2 services, read cache off': await run(`${uncachedUrl}/CortexAPI/Default.aspx`, {
      method: 'POST',
      body: GET_CUSTOMER,
      headers: { authorization: auth, 'content-type': 'text/xml' },
    }),
  };
  for (const [what, r] of Object.entries(results)) {
    console.log(
      `[${engine}] ${what}: ${Math.round(r.requests.average).toLocaleString('en-US')} req/s, p99 ${r.latency.p99} ms${r.non2xx || r.errors ? ` (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}`,
    );
  }
  const failing = Object.entries(results).filter(([, r]) => r.non2xx || r.errors);
  if (failing.length) throw new Error(`[${engine}] non-2xx answers or errors in: ${failing.map(([what]) => what).join(', ')}`);
  const pct = (a: string, b: string) =>
    Math.round((results[a as keyof typeof results].requests.average / results[b as keyof typeof results].requests.average) * 1000) / 10;
  console.log(`[${engine}] CortexAPI / bare route: ${pct('CortexAPI GET customer + 2 services', 'bare route (constant)')}% (target ≥ 50%)`);
  console.log(
    `[${engine}] CortexAPI, read cache off / bare route: ${pct('CortexAPI GET customer + 2 services, read cache off', 'bare route (constant)')}%; / same-reads route: ${pct('CortexAPI GET customer + 2 services, read cache off', 'bare route (same domain reads, JSON)')}%`,
  );
  await api.close();
  await uncached.close();
  await bare.close();
  await database.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Database statements per request with the read cache off (issue 15: GET customer + 2 services
 * ≤ 4, FIND of 500 customers ≤ 3), counted by a Kysely plugin on the server's own executor.
 */
async function countQueries(ctx: AppContext, provider: Customer): Promise<void> {
  // Bulk-loaded under the provider: the count is about reading them, not creating them.
  await sql`
    insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, status)
    select ${provider.id}, ${provider.path}, 1, 'CNT' || g, 'Counted ' || g, 'c', 'c@c.example', 'count.example', 'Provisioned'
    from generate_series(1, 498) g`.execute(ctx.db);
  await sql`update customers set path = path || id || '/' where name like 'CNT%'`.execute(ctx.db);
  let statements = 0;
  const counting = ctx.db.withPlugin({ transformQuery: (args) => (statements++, args.node), transformResult: async (args) => args.result });
  const server = await buildServer({ ...ctx, db: counting, config: { ...ctx.config, cortexReadCache: false } });
  const auth = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
  const send = (payload: string) =>
    server.inject({
      method: 'POST',
      url: '/CortexAPI/Default.aspx',
      payload,
      headers: { authorization: auth, 'content-type': 'text/xml' },
    });
  await send(GET_CUSTOMER); // the first call verifies the password and reads the caller; integrations repeat calls
  for (const [what, body, target] of [
    ['GET customer + 2 services', GET_CUSTOMER, 4],
    ['FIND of 500 customers', FIND_CUSTOMERS, 3],
  ] as const) {
    statements = 0;
    const answer = await send(body);
    if (answer.statusCode !== 200) throw new Error(`${what} answered ${answer.statusCode}: ${answer.body.slice(0, 200)}`);
    console.log(`[${ctx.database.engine}] CortexAPI ${what}, read cache off: ${statements} database statements (target ≤ ${target})`);
  }
  await server.close();
  await sql`delete from customers where name like 'CNT%'`.execute(ctx.db);
}
