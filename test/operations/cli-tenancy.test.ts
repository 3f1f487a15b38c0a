import { afterAll, describe, expect, it, vi } from 'vitest';
import { freshInstall, type FreshInstall } from '../support/fresh-db.js';
import { runCliAsync, startServer, type ServerProcess } from '../support/server-process.js';

// Every command is a child process (through the running server's socket on the embedded database).
vi.setConfig({ testTimeout: 600_000 });

let install: FreshInstall;
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  await install?.drop();
});

async function cli(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_LOG_LEVEL: 'warn', ...install.env };
  for (const k of ['PORT', 'TENANTRY_NEW_PASSWORD']) delete env[k];
  if (!install.env.DATABASE_URL) delete env.DATABASE_URL;
  return runCliAsync(args, env);
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r.stdout;
}

describe('customer and user commands', () => {
  it('list, show and edit customers and users by name, with --json, and delete a customer only with --yes', async () => {
    install = await freshInstall({ TENANTRY_LOG_LEVEL: 'warn' }, { migrated: true });
    const env: NodeJS.ProcessEnv = { ...process.env, ...install.env };
    if (!install.env.DATABASE_URL) delete env.DATABASE_URL;
    delete env.PORT;
    server = await startServer(env);

    await ok([
      'customer',
      'create',
      '--fullname',
      'Basic API Customer',
      '--contact-name',
      'Admin',
      '--contact-email',
      'admin@csm.local',
      '--domain',
      'csm.local',
    ]);
    const shown = JSON.parse(await ok(['customer', 'show', 'BAC', '--json']));
    expect(shown).toMatchObject({
      name: 'BAC',
      fullname: 'Basic API Customer',
      parent: 'SP',
      reseller: false,
      users: 0,
      contactEmail: 'admin@csm.local',
    });
    const text = await ok(['customer', 'show', 'BAC']);
    expect(text).toMatch(/^parent: +SP$/m);
    // Times in the provider's zone (UTC on a new install), with the zone named.
    expect(text).toMatch(/^createdAt: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    // The list names the parent by its code, not its id.
    expect((await ok(['customer', 'list'])).split('\n').find((l) => l.includes('BAC'))).toMatch(/^\d+ +BAC +Basic API Customer +SP /);

    await ok(['user', 'create', '--customer', 'BAC', '--name', 'User1', '--email', 'user1@home.example']);
    await ok(['user', 'create', '--customer', 'BAC', '--name', 'User2']);
    const users = JSON.parse(await ok(['user', 'list', '--customer', 'BAC', '--json'])) as {
      name: string;
      customer: string;
      roles: string[];
      email: string | null;
    }[];
    expect(users.map((u) => [u.name, u.customer, u.roles, u.email])).toEqual([
      ['User1_BAC', 'BAC', ['Customer Administrator'], 'user1@home.example'],
      ['User2_BAC', 'BAC', ['User'], null],
    ]);
    expect(await ok(['user', 'list'])).toMatch(/^admin_SP +admin@sp\.local +SP +Provider Administrator /m);

    const edited = JSON.parse(
      await ok(['user', 'edit', 'User2_BAC', '--first-name', 'Ann', '--add-role', 'Service Provider Developer', '--json']),
    );
    expect(edited.user).toMatchObject({ firstName: 'Ann', roles: ['Service Provider Developer', 'User'] });
    const user2 = JSON.parse(await ok(['user', 'show', 'User2_BAC', '--json']));
    expect(user2.permissions).toEqual(['Service Provider Developer']);
    await ok(['user', 'edit', 'User2_BAC', '--remove-role', 'Service Provider Developer']);
    expect(JSON.parse(await ok(['user', 'show', 'User2_BAC', '--json'])).roles).toEqual(['User']);
    const noChange = await cli(['user', 'edit', 'User2_BAC']);
    expect(noChange.code).not.toBe(0);
    expect(noChange.stderr).toContain('nothing to change');

    const changed = JSON.parse(await ok(['customer', 'edit', 'BAC', '--billing-id', 'PSA-77', '--json']));
    expect(changed.customer.billingId).toBe('PSA-77');
    expect(changed.requestId).toEqual(expect.any(Number));

    const refused = await cli(['customer', 'delete', 'BAC']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('add --yes to de-provision and delete customer BAC');
    const deleted = JSON.parse(await ok(['customer', 'delete', 'BAC', '--yes', '--json']));
    expect(deleted).toEqual({ customer: 'BAC', requestId: expect.any(Number) });

    const missing = await cli(['customer', 'show', 'NOPE']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("tenantry: Customer 'NOPE' not found.");
  });
});
