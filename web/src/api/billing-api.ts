/** Reports > Billing and Reports > Service Billing Configuration (docs/console-api.md). */
import { http, withQuery, type Query } from './client';
// The server's own value lists, so the console cannot drift from them (types only: nothing of the server is bundled).
import type { PeriodKind, RuleEffect, SkuCondition } from '../../../src/billing/schema.js';

export type { PeriodKind, RuleEffect, SkuCondition };

export interface BillPeriod {
  id: number;
  name: string;
  startDate: string;
  endDate: string;
  status: 'open' | 'closed';
  lastRunAt: string | null;
}

export interface SummaryRow {
  customerId: number;
  customerCode: string;
  customerName: string;
  customerAccountCode: string | null;
  sku: string | null;
  isBillable: boolean;
  lineDescription: string;
  previousPeriod: string;
  change: string;
  currentPeriod: string;
}

export interface PeriodHeader {
  billPeriodId: number;
  periodName: string;
  startDate: string;
  endDate: string;
}

export type DetailRow = Record<string, string | number | boolean | null>;

export interface SummaryQuery {
  endDate: string;
  billable?: boolean;
  aggregateByCustomer?: boolean;
  customerId?: number;
}

export interface DetailQuery {
  endDate: string;
  customerId?: number;
  serviceSearch?: string;
  billable?: boolean;
}

export interface Charts {
  periods: { endDate: string; periodName: string }[];
  skuUnits: { endDate: string; sku: string | null; units: string }[];
  topChangedCustomers: {
    customerId: number;
    customerCode: string;
    customerName: string;
    previousPeriod: string;
    currentPeriod: string;
    changed: string;
  }[];
}

export interface SkuEntry {
  sku: string | null;
  defaultSku: string | null;
  changedAt: string | null;
  changedBy: string | null;
}

export interface PlanSkus extends SkuEntry {
  id: number;
  name: string;
  fullname: string;
}

export interface ServiceSkus {
  id: number;
  code: string;
  fullname: string;
  hasUserService: boolean;
  multiInstance: boolean;
  service: SkuEntry;
  userService: SkuEntry;
  plans: PlanSkus[];
  userPlans: PlanSkus[];
}

export interface SkuTarget {
  serviceId: number;
  planId?: number;
  userPlanId?: number;
  userService?: boolean;
}

export interface Rule {
  id: number;
  processingOrder: number;
  description: string;
  overrideReason: string;
  validFrom: string | null;
  validTo: string | null;
  customer: { id: number; name: string; fullname: string } | null;
  includeSubtree: boolean;
  service: { id: number; code: string } | null;
  planCode: string | null;
  skuCondition: SkuCondition;
  sku: string | null;
  userNamePattern: string | null;
  effect: RuleEffect;
  overrideSku: string | null;
  overrideDescription: string | null;
  enabled: boolean;
}

export interface RuleInput {
  description: string;
  overrideReason: string;
  effect: RuleEffect;
  validFrom: string | null;
  validTo: string | null;
  customerId: number | null;
  includeSubtree: boolean;
  serviceId: number | null;
  planCode: string | null;
  skuCondition: SkuCondition;
  sku: string | null;
  overrideSku: string | null;
  overrideDescription: string | null;
  enabled: boolean;
}

export interface BillingSettings {
  timeZone: string;
  kind: PeriodKind;
  day: number;
}
export interface PeriodPreview {
  startDate: string;
  endDate: string;
  name: string;
}

export interface RunProgress {
  id: number;
  periodEndDate: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed';
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  items: number | null;
  added: number | null;
  removed: number | null;
  error: string | null;
  expectedMs: number | null;
  percent: number | null;
}

export const billingApi = {
  periods: () => http.get<{ periods: BillPeriod[]; customers: { id: number; name: string }[] }>('/billing/periods'),
  summary: (q: SummaryQuery) => http.get<PeriodHeader & { items: SummaryRow[] }>('/billing/summary', { ...q }),
  detail: (q: DetailQuery, offset: number, limit: number) =>
    http.get<PeriodHeader & { total: number; offset: number; limit: number; items: DetailRow[] }>('/billing/detail', {
      ...q,
      offset,
      limit,
    }),
  charts: (endDate: string, billable: boolean) => http.get<Charts>('/billing/charts', { endDate, billable }),
  /** Download links (the session cookie authenticates a plain GET). */
  file: (what: 'summary' | 'detail', q: Query, format: 'csv' | 'xlsx') => withQuery(`/api/console/billing/${what}`, { ...q, format }),
};

export const billingConfigApi = {
  skus: () => http.get<{ services: ServiceSkus[] }>('/billing/skus'),
  setSku: (target: SkuTarget, sku: string | null) => http.put<SkuEntry>('/billing/skus', { ...target, sku }),
  resetSku: (target: SkuTarget) => http.post<SkuEntry>('/billing/skus/reset', target),
  rules: () => http.get<{ rules: Rule[] }>('/billing/rules'),
  addRule: (input: RuleInput) => http.post<Rule>('/billing/rules', input),
  updateRule: (id: number, input: RuleInput) => http.put<Rule>(`/billing/rules/${id}`, input),
  deleteRule: (id: number) => http.delete<void>(`/billing/rules/${id}`),
  reorderRules: (ids: number[]) => http.put<{ rules: Rule[] }>('/billing/rules/order', { ids }),
  settings: () => http.get<{ settings: BillingSettings; nextPeriods: PeriodPreview[] }>('/billing/settings'),
  previewSettings: (s: BillingSettings) => http.post<{ nextPeriods: PeriodPreview[] }>('/billing/settings/preview', s),
  saveSettings: (s: BillingSettings) => http.put<{ settings: BillingSettings; nextPeriods: PeriodPreview[] }>('/billing/settings', s),
  reprocess: (period: string) => http.post<RunProgress>('/billing/reprocess', { period }),
  run: (id: number) => http.get<RunProgress>(`/billing/runs/${id}`),
  runEvents: (id: number) => `/api/console/billing/runs/${id}/events`,
};
