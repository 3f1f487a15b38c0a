import fs from 'node:fs';
import { Command, CommanderError } from 'commander';

type Register = (program: Command) => void;

interface CommandGroup {
  /** The top-level commands the group registers, with their descriptions for `tenantry --help`. */
  commands: Record<string, string>;
  load: () => Promise<Register>;
}

/**
 * Every command group of the CLI. Groups load on demand, so `tenantry --help` and each command
 * import only what they use; the descriptions here must match the ones the group registers
 * (test/foundation/cli-server.test.ts checks). A command two groups extend (psa) loads both.
 */
export const COMMAND_GROUPS: CommandGroup[] = [
  {
    commands: {
      start: 'migrate the database, bootstrap the provider and serve HTTP on PORT (default 8080)',
      migrate: 'apply pending database migrations and exit',
      demo: "load a demo reseller tree with customers, users and services (idempotent); prints the demo users' generated passwords once",
      backup: 'write the embedded database to a .tar.gz (works while the server runs; for a PostgreSQL server use pg_dump)',
      restore: 'create the embedded database in an empty TENANTRY_DATA_DIR from a backup file',
      'rotate-key': 're-seal stored secrets (job, driver, pending request secrets) with the configured secrets key',
    },
    load: async () => (await import('./core-commands.js')).registerCoreCommands,
  },
  {
    commands: {
      customer: 'list, show, create, edit and delete customers',
      user: 'list, show, create and edit users; set passwords, disable users',
    },
    load: async () => (await import('./tenancy-commands.js')).registerTenancyCommands,
  },
  {
    commands: { billing: 'bill periods, billing runs, reprocessing and billing rules' },
    load: async () => (await import('./billing-commands.js')).registerBillingCommands,
  },
  {
    commands: { token: 'External API tokens (the user needs the "Service Provider Developer" permission)' },
    load: async () => (await import('./token-commands.js')).registerTokenCommands,
  },
  {
    commands: {
      worker: 'run provisioning workers and the job scheduler in this process against the PostgreSQL server in DATABASE_URL (Ctrl-C stops)',
      requests: 'provisioning requests: list, show (with log and times), retry',
      services: 'catalog services: provisioning drivers',
    },
    load: async () => (await import('./provisioning-commands.js')).registerProvisioningCommands,
  },
  {
    commands: {
      jobs: 'scheduled jobs: PSA billing sync and the billing run (Configuration > Jobs)',
      psa: 'PSA integrations (Autotask, ConnectWise): simulators and per-customer sync settings',
    },
    load: async () => (await import('./jobs-commands.js')).registerJobsCommands,
  },
  {
    commands: { catalog: 'the service catalog: services, customer plans and user plans with their SKUs (stock codes)' },
    load: async () => (await import('./catalog-commands.js')).registerCatalogCommands,
  },
  {
    commands: { psa: 'PSA integrations (Autotask, ConnectWise): simulators and per-customer sync settings' },
    load: async () => (await import('./psa-commands.js')).registerPsaCommands,
  },
];

/** The first word of the command line that is not an option: the top-level command. */
export function commandWord(argv: string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * The program for one command line: only the group that owns its command is loaded; a bare
 * `tenantry`, `--help` or `--version` lists every command by its name and description without loading
 * any group (the command table is tested against what the groups register); anything else (help, typos) loads all.
 */
export async function buildProgram(argv: string[] | 'all'): Promise<{ program: Command; reported: () => boolean }> {
  let reported = false;
  const program = new Command('tenantry')
    .configureOutput({
      writeErr: (text) => {
        reported = true;
        process.stderr.write(text);
      },
    })
    .description('Tenantry: service provisioning and billing for MSPs (CortexAPI- and Atria External API-compatible)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const word = argv === 'all' ? undefined : commandWord(argv);
  const owners = word === undefined ? [] : COMMAND_GROUPS.filter((g) => word in g.commands);
  if (argv !== 'all' && word === undefined) {
    const listed = new Map(COMMAND_GROUPS.flatMap((g) => Object.entries(g.commands)));
    for (const [name, description] of listed) program.command(name).description(description);
  } else {
    for (const group of owners.length ? owners : COMMAND_GROUPS) (await group.load())(program);
  }
  return { program, reported: () => reported };
}

/** Runs one command line (without `node tenantry`); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const { program, reported } = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportError(e, reported());
  }
}

/** Known failures print one clear line and exit non-zero; nothing else prints a stack trace either. */
export async function reportError(e: unknown, commanderReported: boolean): Promise<number> {
  if (e instanceof CommanderError) {
    // Argument errors thrown from inside an action are not printed by commander.
    if (!commanderReported && e.exitCode !== 0) console.error(`tenantry: ${e.message.replace(/^error: /, '')}`);
    return e.exitCode;
  }
  const { ConfigError } = await import('../core/config.js');
  const { DatabaseOpenError } = await import('../core/db/database.js');
  const { DomainError } = await import('../core/errors.js');
  if (e instanceof ConfigError || e instanceof DatabaseOpenError) {
    console.error(`tenantry: ${e.message}`);
    return 2;
  }
  if (e instanceof DomainError) {
    console.error(`tenantry: ${e.message}`);
    return 1;
  }
  console.error(`tenantry: ${(e as Error)?.message ?? String(e)}`);
  if (process.env.TENANTRY_DEBUG) console.error(e);
  return 1;
}
