import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { listCatalogSkus, resetCatalogSku, setCatalogSku, type SkuSelector } from '../catalog/catalog-skus.js';
import { idOrName, printTable, withRuntime } from './context.js';

interface SkuOptions {
  plan?: string;
  userPlan?: string;
  userService?: boolean;
}

function selector(service: string, o: SkuOptions): SkuSelector {
  if ([o.plan, o.userPlan, o.userService].filter(Boolean).length > 1)
    throw new InvalidArgumentError('give at most one of --plan, --user-plan and --user-service');
  return {
    service: idOrName(service),
    ...(o.plan ? { plan: { name: o.plan } } : {}),
    ...(o.userPlan ? { userPlan: { name: o.userPlan } } : {}),
    ...(o.userService ? { userService: true } : {}),
  };
}

function skuTargetOptions(cmd: Command): Command {
  return cmd
    .option('--plan <name>', 'a customer plan (package) of the service')
    .option('--user-plan <name>', 'a user plan (user package) of the service')
    .option('--user-service', "the service's per-user SKU (user services without a user plan)");
}

export function registerCatalogCommands(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('the service catalog: services, customer plans and user plans with their SKUs (stock codes)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (ctx) => {
        const services = await listCatalogSkus(ctx.db);
        if (opts.json) return void console.log(JSON.stringify(services, null, 2));
        const rows: Record<string, unknown>[] = [];
        const mark = (e: { sku: string | null; defaultSku: string | null }) =>
          e.sku === e.defaultSku ? '' : `changed (shipped: ${e.defaultSku ?? 'none'})`;
        for (const s of services) {
          rows.push({ service: s.code, kind: 'service', name: s.fullname, sku: s.service.sku ?? '', note: mark(s.service) });
          if (s.hasUserService)
            rows.push({ service: s.code, kind: 'user service', name: '', sku: s.userService.sku ?? '', note: mark(s.userService) });
          for (const p of s.plans) rows.push({ service: s.code, kind: 'plan', name: p.name, sku: p.sku ?? '', note: mark(p) });
          for (const p of s.userPlans) rows.push({ service: s.code, kind: 'user plan', name: p.name, sku: p.sku ?? '', note: mark(p) });
        }
        printTable(rows, ['service', 'kind', 'name', 'sku', 'note']);
      });
    });

  const sku = catalog.command('sku').description('change the SKU (stock code) billed for a service, plan or user plan');
  skuTargetOptions(
    sku
      .command('set')
      .description('set a SKU; the next billing run uses it (reprocess a past period to re-label it)')
      .argument('<service>', 'service code (Appendix B name, e.g. HE) or id')
      .argument('<sku>', 'the new SKU, e.g. an Autotask Service ID or a ConnectWise product identifier'),
  ).action(async (service: string, value: string, o: SkuOptions) => {
    const target = selector(service, o);
    await withRuntime(async (ctx, caller) => {
      const entry = await inTransaction(ctx.db, (tx) => setCatalogSku(tx, caller, target, value));
      console.log(
        `SKU set to ${entry.sku ?? '(none)'}; the next billing run uses it. Run \`tenantry billing reprocess\` to re-label the open period now.`,
      );
    });
  });
  skuTargetOptions(
    sku.command('clear').description('remove a SKU (items bill without one)').argument('<service>', 'service code or id'),
  ).action(async (service: string, o: SkuOptions) => {
    const target = selector(service, o);
    await withRuntime(async (ctx, caller) => {
      await inTransaction(ctx.db, (tx) => setCatalogSku(tx, caller, target, null));
      console.log('SKU cleared; the next billing run bills these items without a SKU.');
    });
  });
  skuTargetOptions(
    sku.command('reset').description('put a SKU back to the one Tenantry shipped').argument('<service>', 'service code or id'),
  ).action(async (service: string, o: SkuOptions) => {
    const target = selector(service, o);
    await withRuntime(async (ctx, caller) => {
      const entry = await inTransaction(ctx.db, (tx) => resetCatalogSku(tx, caller, target));
      console.log(`SKU back to the shipped ${entry.sku ?? '(none)'}.`);
    });
  });
}
