import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import { listCatalogSkus, resetCatalogSku, setCatalogSku, type SkuSelector } from '../../catalog/catalog-skus.js';
import { getBillingSettings, previewBillPeriods, setBillingSettings, type BillingSettings } from '../../billing/periods/bill-periods.js';
import {
  addRule,
  deleteRule,
  getRule,
  listRules,
  reorderRules,
  updateRule,
  type BillingRule,
  type NewBillingRule,
} from '../../billing/rules/billing-rules.js';
import { billingRunProgress, billingRuns, runBilling, type BillingRunProgress } from '../../billing/run/run-billing.js';
import { PERIOD_KINDS, RULE_EFFECTS, SKU_CONDITIONS } from '../../billing/schema.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, bool, dateTime, id, idParams, int, nullableDateTime, nullableStr, obj, pageSize, shape, str, text } from './schemas.js';

const TAG = 'Console billing configuration';

const nullableText = { type: ['string', 'null'] };
const skuEntry = shape({ sku: nullableText, defaultSku: nullableText, changedAt: nullableDateTime, changedBy: nullableText });
const planSkus = shape({ id: int(), name: str(), fullname: str(), ...(skuEntry as { properties: Record<string, object> }).properties });
const serviceSkus = shape({
  id: int(),
  code: str(),
  fullname: str(),
  hasUserService: bool,
  multiInstance: bool,
  service: skuEntry,
  userService: skuEntry,
  plans: arrayOf(planSkus),
  userPlans: arrayOf(planSkus),
});
const date = { type: ['string', 'null'], maxLength: 10, pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
const ruleSchema = shape({
  id: int(),
  processingOrder: int(),
  description: str(),
  overrideReason: str(),
  validFrom: date,
  validTo: date,
  customer: { type: ['object', 'null'], properties: { id: int(), name: str(), fullname: str() } },
  includeSubtree: bool,
  service: { type: ['object', 'null'], properties: { id: int(), code: str() } },
  planCode: nullableText,
  skuCondition: { type: 'string', enum: [...SKU_CONDITIONS] },
  sku: nullableText,
  userNamePattern: nullableText,
  effect: { type: 'string', enum: [...RULE_EFFECTS] },
  overrideSku: nullableText,
  overrideDescription: nullableText,
  enabled: bool,
});
const ruleBody = obj(
  {
    description: text(500),
    overrideReason: text(500),
    effect: { type: 'string', enum: [...RULE_EFFECTS] },
    processingOrder: int({ minimum: 0, maximum: 1_000_000 }),
    validFrom: date,
    validTo: date,
    customerId: { ...id, type: ['integer', 'null'] },
    includeSubtree: bool,
    serviceId: { ...id, type: ['integer', 'null'] },
    planCode: nullableStr(100),
    skuCondition: { type: 'string', enum: [...SKU_CONDITIONS] },
    sku: nullableStr(100),
    userNamePattern: nullableStr(200),
    overrideSku: nullableStr(100),
    overrideDescription: nullableStr(500),
    enabled: bool,
  },
  ['description', 'overrideReason', 'effect'],
);
const settingsSchema = shape({ timeZone: str(), kind: { type: 'string', enum: [...PERIOD_KINDS] }, day: int() });
const settingsBody = obj(
  { timeZone: text(100), kind: { type: 'string', enum: [...PERIOD_KINDS] }, day: int({ minimum: 0, maximum: 28 }) },
  ['timeZone', 'kind'],
);
const previewSchema = arrayOf(shape({ startDate: str(), endDate: str(), name: str() }));
const skuTarget = {
  serviceId: id,
  planId: id,
  userPlanId: id,
  userService: { type: 'boolean', description: "the service's per-user SKU (user services without a user plan)" },
};
const progressSchema = shape({
  id: int(),
  periodEndDate: str(),
  kind: str(),
  status: { type: 'string', enum: ['running', 'succeeded', 'failed'] },
  actor: str(),
  startedAt: dateTime,
  finishedAt: nullableDateTime,
  items: { type: ['integer', 'null'] },
  added: { type: ['integer', 'null'] },
  removed: { type: ['integer', 'null'] },
  error: nullableText,
  expectedMs: { type: ['integer', 'null'] },
  percent: { type: ['integer', 'null'] },
});

/** How long one SSE stream follows a run before the client must reconnect (bounds every request's work). */
const PROGRESS_STREAM_MS = 30 * 60_000;
const PROGRESS_TICK_MS = 500;

/**
 * Reports > Service Billing Configuration: the catalog's SKUs, billing rules in processing order,
 * bill period settings with a preview, and "Reprocess Billing Records" that the page follows live.
 */
export function consoleBillingConfigRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);

  // --- SKUs -------------------------------------------------------------------------------------
  route(
    {
      method: 'GET',
      url: '/api/console/billing/skus',
      tag: TAG,
      permission: 'View Reports',
      summary: "The catalog's services, customer plans and user plans with their SKU (stock code), the shipped default and the last change",
      response: { 200: shape({ services: arrayOf(serviceSkus) }) },
    },
    async () => ({ services: await listCatalogSkus(ctx.db) }),
  );

  route(
    {
      method: 'PUT',
      url: '/api/console/billing/skus',
      tag: TAG,
      summary:
        "Set (or clear, with null or \"\") one SKU: the service's, its per-user one, a plan's or a user plan's (provider admin; applies from the next billing run)",
      body: obj({ ...skuTarget, sku: nullableStr(100) }, ['serviceId', 'sku']),
      response: { 200: skuEntry },
    },
    async (auth, req) => {
      const b = req.body as { serviceId: number; planId?: number; userPlanId?: number; userService?: boolean; sku: string | null };
      return inTransaction(ctx.db, (tx) => setCatalogSku(tx, auth.caller, selector(b), b.sku));
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/billing/skus/reset',
      tag: TAG,
      summary: 'Put one SKU back to the one Tenantry shipped',
      body: obj(skuTarget, ['serviceId']),
      response: { 200: skuEntry },
    },
    async (auth, req) => inTransaction(ctx.db, (tx) => resetCatalogSku(tx, auth.caller, selector(req.body as { serviceId: number }))),
  );

  // --- Rules ------------------------------------------------------------------------------------
  route(
    {
      method: 'GET',
      url: '/api/console/billing/rules',
      tag: TAG,
      permission: 'Manage Billing',
      summary: 'Billing rules in deciding order (the first that matches an item decides it)',
      response: { 200: shape({ rules: arrayOf(ruleSchema) }) },
    },
    async () => ({ rules: await rulesToWire(ctx, await listRules(ctx.db)) }),
  );

  route(
    {
      method: 'POST',
      url: '/api/console/billing/rules',
      tag: TAG,
      summary: 'Add a rule (default: it decides before every existing rule)',
      body: ruleBody,
      response: { 201: ruleSchema },
    },
    async (auth, req, reply) => {
      const rule = await inTransaction(ctx.db, (tx) => addRule(tx, auth.caller, ruleInput(req.body)));
      return reply.code(201).send((await rulesToWire(ctx, [rule]))[0]);
    },
  );

  route(
    {
      method: 'PUT',
      url: '/api/console/billing/rules/:id',
      tag: TAG,
      summary: 'Replace a rule (it keeps its place unless processingOrder is given)',
      params: idParams,
      body: ruleBody,
      response: { 200: ruleSchema },
    },
    async (auth, req) => {
      const rule = await inTransaction(ctx.db, (tx) =>
        updateRule(tx, auth.caller, (req.params as { id: number }).id, {
          ...ruleInput(req.body),
          enabled: (req.body as { enabled?: boolean }).enabled,
        }),
      );
      return (await rulesToWire(ctx, [rule]))[0];
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/rules/:id',
      tag: TAG,
      permission: 'Manage Billing',
      summary: 'A billing rule',
      params: idParams,
      response: { 200: ruleSchema },
    },
    async (_auth, req) => (await rulesToWire(ctx, [await getRule(ctx.db, (req.params as { id: number }).id)]))[0],
  );

  route(
    { method: 'DELETE', url: '/api/console/billing/rules/:id', tag: TAG, summary: 'Delete a rule', params: idParams },
    async (auth, req, reply) => {
      await inTransaction(ctx.db, (tx) => deleteRule(tx, auth.caller, (req.params as { id: number }).id));
      return reply.code(204).send();
    },
  );

  route(
    {
      method: 'PUT',
      url: '/api/console/billing/rules/order',
      tag: TAG,
      summary: 'Reorder: every rule id once, the rule that decides first (wins over all others) first',
      body: obj({ ids: arrayOf(id, 10000) }, ['ids']),
      response: { 200: shape({ rules: arrayOf(ruleSchema) }) },
    },
    async (auth, req) => ({
      rules: await rulesToWire(
        ctx,
        await inTransaction(ctx.db, (tx) => reorderRules(tx, auth.caller, (req.body as { ids: number[] }).ids)),
      ),
    }),
  );

  // --- Bill period settings ---------------------------------------------------------------------
  route(
    {
      method: 'GET',
      url: '/api/console/billing/settings',
      tag: TAG,
      permission: 'Manage Billing',
      summary: 'Bill period settings (kind, day, time zone) and the next three periods they give',
      response: { 200: shape({ settings: settingsSchema, nextPeriods: previewSchema }) },
    },
    async () => {
      const settings = await getBillingSettings(ctx.db);
      return { settings, nextPeriods: await previewBillPeriods(ctx.db, settings) };
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/billing/settings/preview',
      tag: TAG,
      permission: 'Manage Billing',
      summary: 'The next three periods these settings would give, without saving them',
      body: settingsBody,
      response: { 200: shape({ nextPeriods: previewSchema }) },
    },
    async (_auth, req) => ({ nextPeriods: await previewBillPeriods(ctx.db, settingsOf(req.body)) }),
  );

  route(
    {
      method: 'PUT',
      url: '/api/console/billing/settings',
      tag: TAG,
      summary: 'Change the bill period settings (closed periods keep their dates; the open period and later ones are regenerated)',
      body: settingsBody,
      response: { 200: shape({ settings: settingsSchema, nextPeriods: previewSchema }) },
    },
    async (auth, req) => {
      const settings = await inTransaction(ctx.db, (tx) => setBillingSettings(tx, auth.caller, settingsOf(req.body)));
      return { settings, nextPeriods: await previewBillPeriods(ctx.db, settings) };
    },
  );

  // --- Reprocess --------------------------------------------------------------------------------
  route(
    {
      method: 'POST',
      url: '/api/console/billing/reprocess',
      tag: TAG,
      summary: 'Reprocess Billing Records of a period (default: the current one); answers 202 with the run to follow',
      body: obj({ period: str(20) }),
      response: { 202: progressSchema },
    },
    async (auth, req, reply) => {
      const period = (req.body as { period?: string } | undefined)?.period?.trim() || 'Current';
      const runId = await startReprocess(ctx, auth.caller, period, (e) => req.log.error({ err: e }, 'billing reprocess failed'));
      return reply.code(202).send(progressToWire(await billingRunProgress(ctx.db, auth.caller, runId)));
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/runs',
      tag: TAG,
      permission: 'Manage Billing',
      summary: 'The latest billing runs',
      querystring: obj({ limit: pageSize() }),
      response: {
        200: shape({
          runs: arrayOf(
            shape({
              id: int(),
              periodEndDate: str(),
              kind: str(),
              status: str(),
              actor: str(),
              startedAt: dateTime,
              finishedAt: nullableDateTime,
              items: { type: ['integer', 'null'] },
              error: nullableText,
            }),
          ),
        }),
      },
    },
    async (_auth, req) => ({
      runs: (await billingRuns(ctx.db, (req.query as { limit?: number }).limit ?? 20)).map((r) => ({
        ...r,
        startedAt: r.startedAt.toISOString(),
        finishedAt: r.finishedAt?.toISOString() ?? null,
      })),
    }),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/runs/:id',
      tag: TAG,
      summary: "A billing run's progress and outcome (items added, changed or removed)",
      params: idParams,
      response: { 200: progressSchema },
    },
    async (auth, req) => progressToWire(await billingRunProgress(ctx.db, auth.caller, (req.params as { id: number }).id)),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/runs/:id/events',
      tag: TAG,
      summary: "A billing run's progress as server-sent events: `progress` while it runs, then one `done` (an EventSource follows it)",
      params: idParams,
    },
    async (auth, req, reply) => {
      const runId = (req.params as { id: number }).id;
      let state = await billingRunProgress(ctx.db, auth.caller, runId);
      reply.hijack();
      reply.raw.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      let closed = false;
      req.raw.on('close', () => (closed = true));
      const until = Date.now() + PROGRESS_STREAM_MS;
      try {
        while (!closed && state.status === 'running' && Date.now() < until) {
          reply.raw.write(`event: progress\ndata: ${JSON.stringify(progressToWire(state))}\n\n`);
          await new Promise((r) => setTimeout(r, PROGRESS_TICK_MS));
          state = await billingRunProgress(ctx.db, auth.caller, runId);
        }
        if (!closed)
          reply.raw.write(`event: ${state.status === 'running' ? 'progress' : 'done'}\ndata: ${JSON.stringify(progressToWire(state))}\n\n`);
      } catch (e) {
        req.log.error({ err: e }, 'billing run progress stream failed');
      } finally {
        reply.raw.end();
      }
    },
  );
}

/**
 * Starts a reprocess in the background and resolves with its run id once the run record exists;
 * an error before that (an unknown period) rejects, so the caller gets it as the answer. A later
 * failure is recorded on the run (status failed, its message) for the page to show.
 */
function startReprocess(ctx: AppContext, caller: Caller, period: string, onLateError: (e: unknown) => void): Promise<number> {
  requirePermission(caller, 'Manage Billing');
  return new Promise<number>((resolve, reject) => {
    let started = false;
    runBilling(ctx.db, caller, {
      period,
      reprocess: true,
      onStart: (runId) => {
        started = true;
        resolve(runId);
      },
    }).catch((e: unknown) => {
      if (started) onLateError(e);
      else reject(e);
    });
  });
}

function progressToWire(p: BillingRunProgress) {
  return { ...p, startedAt: p.startedAt.toISOString(), finishedAt: p.finishedAt?.toISOString() ?? null };
}

function selector(b: { serviceId: number; planId?: number; userPlanId?: number; userService?: boolean }): SkuSelector {
  return {
    service: { id: b.serviceId },
    ...(b.planId !== undefined ? { plan: { id: b.planId } } : {}),
    ...(b.userPlanId !== undefined ? { userPlan: { id: b.userPlanId } } : {}),
    ...(b.userService ? { userService: true } : {}),
  };
}

function settingsOf(body: unknown): BillingSettings {
  const b = body as { timeZone: string; kind: BillingSettings['kind']; day?: number };
  return { timeZone: b.timeZone.trim(), kind: b.kind, day: b.day ?? 0 };
}

function ruleInput(body: unknown): NewBillingRule {
  const b = body as Record<string, unknown>;
  const s = (k: string) => (typeof b[k] === 'string' && (b[k] as string).trim() !== '' ? (b[k] as string) : undefined);
  return {
    description: b.description as string,
    overrideReason: b.overrideReason as string,
    effect: b.effect as NewBillingRule['effect'],
    ...(typeof b.processingOrder === 'number' ? { processingOrder: b.processingOrder } : {}),
    ...(s('validFrom') ? { validFrom: s('validFrom') } : {}),
    ...(s('validTo') ? { validTo: s('validTo') } : {}),
    ...(typeof b.customerId === 'number' ? { customer: { id: b.customerId }, includeSubtree: b.includeSubtree !== false } : {}),
    ...(typeof b.serviceId === 'number' ? { service: { id: b.serviceId } } : {}),
    ...(s('planCode') ? { planCode: s('planCode') } : {}),
    ...(b.skuCondition ? { skuCondition: b.skuCondition as NewBillingRule['skuCondition'] } : {}),
    ...(s('sku') ? { sku: s('sku') } : {}),
    ...(s('userNamePattern') ? { userNamePattern: s('userNamePattern') } : {}),
    ...(s('overrideSku') ? { overrideSku: s('overrideSku') } : {}),
    ...(s('overrideDescription') ? { overrideDescription: s('overrideDescription') } : {}),
  };
}

/** Rules with their customer and service named, for the list and the editor. */
async function rulesToWire(ctx: AppContext, rules: BillingRule[]) {
  const customerIds = [...new Set(rules.map((r) => r.customerId).filter((x): x is number => x !== null))];
  const serviceIds = [...new Set(rules.map((r) => r.serviceId).filter((x): x is number => x !== null))];
  const customers = customerIds.length
    ? await ctx.db.selectFrom('customers').select(['id', 'name', 'fullname']).where('id', 'in', customerIds).execute()
    : [];
  const services = serviceIds.length
    ? await ctx.db.selectFrom('services').select(['id', 'code']).where('id', 'in', serviceIds).execute()
    : [];
  return rules.map(({ customerId, serviceId, ...r }) => ({
    ...r,
    customer: customers.find((c) => c.id === customerId) ?? null,
    service: services.find((s) => s.id === serviceId) ?? null,
  }));
}
