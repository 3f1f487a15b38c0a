import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { inTransaction } from '../src/core/db/database.js';
import { loadConfig } from '../src/core/config.js';
import { SecretBox } from '../src/core/crypto.js';
import { createLogger } from '../src/core/logger.js';
import type { AppContext } from '../src/core/context.js';
import { buildServer } from '../src/api/server.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { createCustomer, getCustomer } from '../src/tenancy/customer.service.js';
import { createUser } from '../src/tenancy/user.service.js';
import { customerServicesOf, provisionCustomerService, provisionUserService } from '../src/services/service-assignment.service.js';
import { benchDatabase } from './support.js';
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
const GET_CUSTOMER = '<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><customer><name>BAC</name><service><name>HE</name></service><service><name>FSS</name></service></customer></request>';

/**
 * CortexAPI GET of one customer with two services over loopback, beside (a) a bare Fastify route
 * returning a constant and (b) a bare Fastify route making the same domain reads and answering
 * JSON — so the figure shows what the XML layer (auth, parse, serialize) costs.
 */
export const cortexBench: Bench = {
  name: 'cortex',
  async run() {
    const { database, provider } = await benchDatabase('pglite');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-bench-'));
    const ctx: AppContext = {
      config: { ...loadConfig({}), dataDir, port: 0, host: '127.0.0.1', inProcessWorkers: false },
      database,
      db: database.db,
      secrets: SecretBox.load(undefined, dataDir),
      logger: createLogger('silent'),
      provider,
    };
    const caller = systemCaller(provider);
    await inTransaction(database.db, async (tx) => {
      const { customer } = await createCustomer(tx, caller, { name: 'BAC', fullname: 'Basic API Customer', contactName: 'Admin', contactEmail: 'Admin@csm.local', primaryDomain: 'csm.local' });
      const { user } = await createUser(tx, caller, customer, { name: 'User1', password: { password: PASSWORD } });
      await provisionCustomerService(tx, caller, customer, { service: { name: 'HE' }, plan: { name: 'Basic' }, userPlans: [{ plan: { fullname: 'Ex10 Basic' }, enabled: true }] });
      await provisionCustomerService(tx, caller, customer, { service: { name: 'FSS' }, userPlans: [{ plan: { name: 'FULL' }, enabled: true }] });
      await provisionUserService(tx, caller, customer, user, { service: { name: 'HE' } });
    });

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
    const run = (url: string, extra: Record<string, unknown> = {}) => autocannon({ url, connections: 10, duration: 5, ...extra });
    await run(`${apiUrl}/CortexAPI/Default.aspx`, { method: 'POST', body: GET_CUSTOMER, headers: { authorization: auth, 'content-type': 'text/xml' }, duration: 1 });
    const results = {
      'bare route (constant)': await run(`${bareUrl}/bare`),
      'bare route (same domain reads, JSON)': await run(`${bareUrl}/domain`),
      'CortexAPI GET customer + 2 services': await run(`${apiUrl}/CortexAPI/Default.aspx`, { method: 'POST', body: GET_CUSTOMER, headers: { authorization: auth, 'content-type': 'text/xml' } }),
      'CortexAPI GET customer + 2 services, read cache off': await run(`${uncachedUrl}/CortexAPI/Default.aspx`, { method: 'POST', body: GET_CUSTOMER, headers: { authorization: auth, 'content-type': 'text/xml' } }),
    };
    for (const [what, r] of Object.entries(results)) {
      console.log(`[pglite] ${what}: ${Math.round(r.requests.average).toLocaleString('en-US')} req/s, p99 ${r.latency.p99} ms${r.non2xx || r.errors ? ` (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}`);
    }
    const pct = (a: string, b: string) => Math.round((results[a as keyof typeof results].requests.average / results[b as keyof typeof results].requests.average) * 1000) / 10;
    console.log(`[pglite] CortexAPI / bare route: ${pct('CortexAPI GET customer + 2 services', 'bare route (constant)')}% (target ≥ 50%)`);
    console.log(`[pglite] CortexAPI, read cache off / bare route: ${pct('CortexAPI GET customer + 2 services, read cache off', 'bare route (constant)')}%; / same-reads route: ${pct('CortexAPI GET customer + 2 services, read cache off', 'bare route (same domain reads, JSON)')}%`);
    await api.close();
    await uncached.close();
    await bare.close();
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  },
};
