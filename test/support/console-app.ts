import type { FastifyInstance } from 'fastify';
import { openTestContext, type TestContext } from './test-db.js';
import { makeResellerTree, PASSWORD, type ResellerTree } from './fixtures.js';
import { TEST_ADMIN } from './engine.js';
import { buildServer } from '../../src/api/server.js';
import { ConsoleClient } from '../console/support.js';

export interface ConsoleTestApp {
  t: TestContext;
  tree: ResellerTree;
  app: FastifyInstance;
  /** A console client signed in as `userName` (default password: the fixtures'); fails the setup if sign-in does not succeed. */
  signIn(userName: string, password?: string): Promise<ConsoleClient>;
  /** A console client signed in as the provider's admin. */
  signInAdmin(): Promise<ConsoleClient>;
  close(): Promise<void>;
}

/**
 * The console tests' shared setup: a fresh database with the reseller tree, and the HTTP server over it.
 * `prepare` runs before the server is built, for data or clock settings the file needs.
 */
export async function consoleTestApp(prepare?: (t: TestContext, tree: ResellerTree) => Promise<void> | void): Promise<ConsoleTestApp> {
  const t = await openTestContext();
  let app: FastifyInstance | undefined;
  try {
    const tree = await makeResellerTree(t.db, t.admin);
    await prepare?.(t, tree);
    const server = (app = await buildServer(t.ctx));
    const signIn = async (userName: string, password = PASSWORD): Promise<ConsoleClient> => {
      const client = new ConsoleClient(server);
      const res = await client.signIn(userName, password);
      if (res.statusCode !== 200) throw new Error(`console sign-in of ${userName} answered ${res.statusCode}: ${res.body}`);
      return client;
    };
    return {
      t,
      tree,
      app: server,
      signIn,
      signInAdmin: () => signIn(TEST_ADMIN.user, TEST_ADMIN.password),
      close: async () => {
        await server.close();
        await t.close();
      },
    };
  } catch (err) {
    await app?.close();
    await t.close();
    throw err;
  }
}
