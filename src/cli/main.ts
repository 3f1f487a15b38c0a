import { Command, CommanderError } from 'commander';
import { ConfigError } from '../core/config.js';
import { DatabaseOpenError } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { registerCoreCommands } from './core-commands.js';
import { registerTenancyCommands } from './tenancy-commands.js';
import { registerBillingCommands } from './billing-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerProvisioningCommands } from './provisioning-commands.js';
import { registerJobsCommands } from './jobs-commands.js';

/** Every command group of the CLI; each module adds its own. */
const COMMAND_GROUPS = [registerCoreCommands, registerTenancyCommands, registerBillingCommands, registerTokenCommands, registerProvisioningCommands, registerJobsCommands];

/** Set once commander itself has printed an error, so it is not printed twice. */
let commanderReported = false;

export function buildProgram(): Command {
  const program = new Command('tenantry')
    .configureOutput({
      writeErr: (text) => {
        commanderReported = true;
        process.stderr.write(text);
      },
    })
    .description('Tenantry: service provisioning and billing for MSPs (CortexAPI- and Atria External API-compatible)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMAND_GROUPS) register(program);
  return program;
}

/** Known failures print one clear line and exit non-zero; nothing else prints a stack trace either. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Argument errors thrown from inside an action are not printed by commander.
    if (!commanderReported && e.exitCode !== 0) console.error(`tenantry: ${e.message.replace(/^error: /, '')}`);
    return e.exitCode;
  }
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

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}
