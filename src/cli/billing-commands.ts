import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { billPeriods, getBillingSettings, setBillingSettings } from '../billing/periods/bill-periods.js';
import { billingRuns, runBilling, type PeriodRunResult } from '../billing/run/run-billing.js';
import {
  addNoSkuRule,
  addRule,
  deleteRule,
  listRules,
  reorderRules,
  type BillingRule,
  type NewBillingRule,
} from '../billing/rules/billing-rules.js';
import { billingSummary, resolvePeriod } from '../billing/summary.js';
import type { PeriodKind, RuleEffect, SkuCondition } from '../billing/schema.js';
import type { AppContext } from '../core/context.js';
import { idOrName, printAs, printTable, progress, withRuntime } from './context.js';

const KINDS: Record<string, PeriodKind> = {
  'month-end': 'month_end',
  'fixed-day': 'fixed_start_day',
  'days-before-end': 'days_before_month_end',
};
const EFFECTS: Record<string, RuleEffect> = {
  'not-billable': 'not_billable',
  'override-sku': 'override_sku',
  'override-description': 'override_description',
};

function wholeNumber(label: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${label} must be a whole number.`);
    return Number(value);
  };
}

export function registerBillingCommands(program: Command): void {
  const billing = program.command('billing').description('bill periods, billing runs, reprocessing and billing rules');

  billing
    .command('settings')
    .description("show or change the bill period configuration (system-wide, like Atria's Bill Process Day)")
    .option('--time-zone <iana>', "the provider's time zone, e.g. Europe/London")
    .option(
      '--kind <kind>',
      'month-end | fixed-day (periods start on --day, e.g. 26) | days-before-end (periods end --day days before month end)',
    )
    .option('--day <n>', 'start day (fixed-day, 1–28) or days before month end (0–27)', wholeNumber('--day'))
    .option('--json', 'print JSON')
    .action(async (opts: { timeZone?: string; kind?: string; day?: number; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        let settings = await getBillingSettings(ctx.db);
        if (opts.timeZone !== undefined || opts.kind !== undefined || opts.day !== undefined) {
          const kind = opts.kind === undefined ? settings.kind : KINDS[opts.kind];
          if (!kind) throw new InvalidArgumentError(`--kind must be one of ${Object.keys(KINDS).join(', ')}`);
          settings = await inTransaction(ctx.db, (tx) =>
            setBillingSettings(tx, caller, { timeZone: opts.timeZone ?? settings.timeZone, kind, day: opts.day ?? settings.day }),
          );
        }
        const kindName = Object.entries(KINDS).find(([, k]) => k === settings.kind)![0];
        printAs({ timeZone: settings.timeZone, kind: kindName, day: settings.day }, opts.json, (v) =>
          console.log(`time zone ${v.timeZone}; periods: ${v.kind}${settings.kind === 'month_end' ? '' : ` (day ${v.day})`}`),
        );
      });
    });

  billing
    .command('periods')
    .description('list bill periods (generated as time passes)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (ctx) => {
        printAs(await billPeriods(ctx.db), opts.json, (periods) =>
          printTable(
            periods.map((p) => ({
              id: p.id,
              name: p.name,
              start: p.startDate,
              end: p.endDate,
              status: p.status,
              finalized: p.finalizedAt ?? '',
              lastRun: p.lastRunAt ?? '',
            })),
            ['id', 'name', 'start', 'end', 'status', 'finalized', 'lastRun'],
          ),
        );
      });
    });

  billing
    .command('run')
    .description('rebuild bill items from the ledger: the open period and any closed period not yet finalized, or --period')
    .option('--period <end>', 'a period end date (YYYY-MM-DD), Current or Previous')
    .option('--json', 'print the runs as JSON (progress goes to stderr)')
    .action(async (opts: { period?: string; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const results = await runBilling(ctx.db, caller, { ...(opts.period ? { period: opts.period } : {}), onProgress: progress });
        printAs(results.map(runView), opts.json, (runs) =>
          console.log(`billing run finished: ${runs.length} period(s), run record(s) ${runs.map((r) => r.runId).join(', ')}`),
        );
      });
    });

  billing
    .command('reprocess')
    .description('"Reprocess Billing Records": rebuild a period even when it is closed (default: the open period)')
    .option('--period <end>', 'a period end date (YYYY-MM-DD), Current or Previous', 'Current')
    .option('--json', 'print the run as JSON (progress goes to stderr)')
    .action(async (opts: { period: string; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const results = await runBilling(ctx.db, caller, { period: opts.period, reprocess: true, onProgress: progress });
        printAs(runView(results[0]!), opts.json, (run) => console.log(`reprocessed: run record ${run.runId}`));
      });
    });

  billing
    .command('runs')
    .description('the latest billing run records')
    .option('--limit <n>', 'how many', wholeNumber('--limit'), 20)
    .option('--json', 'print JSON')
    .action(async (opts: { limit: number; json?: boolean }) => {
      await withRuntime(async (ctx) => {
        printAs(await billingRuns(ctx.db, opts.limit), opts.json, (runs) =>
          printTable(runs as unknown as Record<string, unknown>[], [
            'id',
            'periodEndDate',
            'kind',
            'status',
            'actor',
            'startedAt',
            'finishedAt',
            'items',
            'error',
          ]),
        );
      });
    });

  billing
    .command('summary')
    .description('the billing summary of a period (what the PSA sync pushes)')
    .option('--period <end>', 'a period end date (YYYY-MM-DD), Current or Previous', 'Current')
    .option('--billable', 'billable items only')
    .option('--by-customer', 'one row per customer and SKU')
    .option('--json', 'print JSON')
    .action(async (opts: { period: string; billable?: boolean; byCustomer?: boolean; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const period = await resolvePeriod(ctx.db, opts.period);
        const summary = await billingSummary(ctx.db, caller, {
          endDate: period.endDate,
          billable: Boolean(opts.billable),
          aggregateByCustomer: Boolean(opts.byCustomer),
        });
        if (opts.json) return void console.log(JSON.stringify(summary, null, 2));
        console.log(`${summary.periodName} (${period.startDate} – ${period.endDate}, ${period.status})`);
        printTable(summary.items as unknown as Record<string, unknown>[], [
          'customerCode',
          'sku',
          'isBillable',
          'lineDescription',
          'previousPeriod',
          'change',
          'currentPeriod',
        ]);
      });
    });

  const rules = billing.command('rules').description('billing rules: the latest in processing order decides an item');
  rules
    .command('list')
    .description('list rules in deciding order, with the customer and service each one covers')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (ctx) => {
        printAs(await ruleViews(ctx, await listRules(ctx.db)), opts.json, (rules) =>
          printTable(rules as unknown as Record<string, unknown>[], [
            'id',
            'processingOrder',
            'effect',
            'description',
            'overrideReason',
            'customer',
            'service',
            'planCode',
            'skuCondition',
            'sku',
            'userNamePattern',
            'validFrom',
            'validTo',
          ]),
        );
      });
    });
  rules
    .command('no-sku')
    .description('seed 003: mark every item without a SKU not billable (one rule, added once)')
    .action(async () => {
      await withRuntime(async (ctx, caller) => {
        const rule = await inTransaction(ctx.db, (tx) => addNoSkuRule(tx, caller));
        console.log(
          `rule ${rule.id}: items without a SKU are not billable (reason "${rule.overrideReason}"). Run \`tenantry billing reprocess\` to apply it now.`,
        );
      });
    });
  rules
    .command('add')
    .description('add a rule')
    .requiredOption('--description <text>', 'what the rule is for')
    .requiredOption('--reason <text>', 'override reason stamped on each item the rule decides')
    .option('--effect <effect>', 'not-billable | override-sku | override-description', 'not-billable')
    .option('--order <n>', 'processing order (default: after every rule, so it wins)', wholeNumber('--order'))
    .option('--customer <code|id>', 'only this customer (and its subtree)')
    .option('--only-customer', 'with --customer: not its subtree')
    .option('--service <code>', 'only this service (Appendix B name, e.g. HE)')
    .option('--plan <code>', 'only this plan')
    .option('--sku <sku>', 'only this SKU')
    .option('--sku-absent', 'only items without a SKU')
    .option('--sku-present', 'only items with a SKU')
    .option('--user <pattern>', 'only users whose name matches (glob: test*_BAC)')
    .option('--valid-from <date>', 'first day the rule applies')
    .option('--valid-to <date>', 'last day the rule applies')
    .option('--set-sku <sku>', 'the SKU to set (override-sku)')
    .option('--set-description <text>', 'the line description to set (override-description)')
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const effect = EFFECTS[String(o.effect)];
      if (!effect) throw new InvalidArgumentError(`--effect must be one of ${Object.keys(EFFECTS).join(', ')}`);
      const skuCondition: SkuCondition = o.skuAbsent ? 'absent' : o.skuPresent ? 'present' : 'any';
      const input: NewBillingRule = {
        description: String(o.description),
        overrideReason: String(o.reason),
        effect,
        skuCondition,
        ...(o.order !== undefined ? { processingOrder: Number(o.order) } : {}),
        ...(o.customer ? { customer: idOrName(String(o.customer)), includeSubtree: !o.onlyCustomer } : {}),
        ...(o.service ? { service: idOrName(String(o.service)) } : {}),
        ...(o.plan ? { planCode: String(o.plan) } : {}),
        ...(o.sku ? { sku: String(o.sku) } : {}),
        ...(o.user ? { userNamePattern: String(o.user) } : {}),
        ...(o.validFrom ? { validFrom: String(o.validFrom) } : {}),
        ...(o.validTo ? { validTo: String(o.validTo) } : {}),
        ...(o.setSku ? { overrideSku: String(o.setSku) } : {}),
        ...(o.setDescription ? { overrideDescription: String(o.setDescription) } : {}),
      };
      await withRuntime(async (ctx, caller) => {
        const rule = await inTransaction(ctx.db, (tx) => addRule(tx, caller, input));
        console.log(
          `rule ${rule.id} added (processing order ${rule.processingOrder}). Run \`tenantry billing reprocess\` to apply it now.`,
        );
      });
    });
  rules
    .command('reorder')
    .description('set the deciding order: every rule id once, the rule that wins over all others first')
    .argument('<ids...>', 'rule ids in deciding order (see `billing rules list`)')
    .action(async (ids: string[]) => {
      const order = ids.map(wholeNumber('rule id'));
      await withRuntime(async (ctx, caller) => {
        const rules = await inTransaction(ctx.db, (tx) => reorderRules(tx, caller, order));
        console.log(`new deciding order: ${rules.map((r) => r.id).join(', ')}. Run \`tenantry billing reprocess\` to apply it now.`);
      });
    });
  rules
    .command('delete')
    .description('delete a rule')
    .argument('<id>', 'rule id', wholeNumber('id'))
    .action(async (id: number) => {
      await withRuntime(async (ctx, caller) => {
        await inTransaction(ctx.db, (tx) => deleteRule(tx, caller, id));
        console.log(`rule ${id} deleted`);
      });
    });
}

/** A billing run's outcome as the CLI answers it: the period by its end date and name beside the run id. */
function runView(r: PeriodRunResult) {
  return {
    runId: r.runId,
    periodEndDate: r.period.endDate,
    periodName: r.period.name,
    items: r.items,
    added: r.added,
    removed: r.removed,
    ms: r.ms,
  };
}

/** Rules with the customer's code and the service's code beside their ids. */
async function ruleViews(ctx: AppContext, rules: BillingRule[]) {
  const customerIds = rules.flatMap((r) => (r.customerId === null ? [] : [r.customerId]));
  const serviceIds = rules.flatMap((r) => (r.serviceId === null ? [] : [r.serviceId]));
  const customers = customerIds.length
    ? await ctx.db.selectFrom('customers').select(['id', 'name']).where('id', 'in', customerIds).execute()
    : [];
  const services = serviceIds.length
    ? await ctx.db.selectFrom('services').select(['id', 'code']).where('id', 'in', serviceIds).execute()
    : [];
  return rules.map((r) => ({
    ...r,
    customer:
      r.customerId === null
        ? null
        : `${customers.find((c) => c.id === r.customerId)?.name ?? r.customerId}${r.includeSubtree ? ' and below' : ''}`,
    service: services.find((v) => v.id === r.serviceId)?.code ?? null,
  }));
}
