import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { getCustomer } from '../tenancy/customer.service.js';
import { psaMappingOf, setPsaMapping, type PsaMapping } from '../integrations/psa/shared/psa-mapping.js';
import { idOrName, withRuntime } from './context.js';

/**
 * `--contract 123`, or `--contract none` to let the sync's rule choose again. 'none' stays a word
 * until the action: commander turns an option value parsed to null into '' (a "value-less" option).
 */
function idOrNone(value: string): number | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none';
  if (!/^\d{1,15}$/.test(value.trim()) || Number(value) <= 0) throw new InvalidArgumentError('expected a positive whole number or "none"');
  return Number(value);
}

export function registerPsaCommands(program: Command): void {
  // The jobs group adds `psa simulate` to the same command.
  const psa =
    program.commands.find((c) => c.name() === 'psa') ??
    program.command('psa').description('PSA integrations (Autotask, ConnectWise): simulators and per-customer sync settings');
  psa
    .command('mapping')
    .description(
      "show or set which Autotask contract / ConnectWise agreement a customer's lines go to (default: the sync's documented rule)",
    )
    .argument('<customer>', 'customer code or id')
    .option('--contract <id|none>', 'Autotask Recurring Service contract id (customer property PsaContractId)', idOrNone)
    .option('--agreement <id|none>', 'ConnectWise agreement id (customer property PsaAgreementId)', idOrNone)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { contract?: number | 'none'; agreement?: number | 'none'; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const id = (value: number | 'none') => (value === 'none' ? null : value);
        const change: Partial<PsaMapping> = {
          ...(opts.contract !== undefined ? { autotaskContractId: id(opts.contract) } : {}),
          ...(opts.agreement !== undefined ? { connectwiseAgreementId: id(opts.agreement) } : {}),
        };
        const mapping = Object.keys(change).length
          ? (await inTransaction(ctx.db, (tx) => setPsaMapping(tx, caller, idOrName(name), change))).mapping
          : psaMappingOf(await getCustomer(ctx.db, caller, idOrName(name)));
        if (opts.json) return void console.log(JSON.stringify(mapping));
        console.log(`Autotask contract:    ${mapping.autotaskContractId ?? 'chosen by rule'}`);
        console.log(`ConnectWise agreement: ${mapping.connectwiseAgreementId ?? 'chosen by rule'}`);
      });
    });
}
