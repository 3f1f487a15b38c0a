import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics, served at /metrics. One registry per process: the domain
 * modules record into it wherever the work happens (API, engine, job runner, billing run), so a
 * `tenantry worker` process counts its own work; /metrics shows the server process's.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tenantry_' });

export const httpRequests = new Counter({
  name: 'tenantry_http_requests_total',
  help: 'HTTP requests answered, by route pattern, method and status code.',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'tenantry_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route pattern.',
  labelNames: ['route', 'method'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const httpTimeouts = new Counter({
  name: 'tenantry_http_timeouts_total',
  help: 'Requests stopped at their time limit (handler: answered with a time-out; stream: cut off), by route pattern.',
  labelNames: ['route', 'phase'] as const,
  registers: [registry],
});

export const cortexActions = new Counter({
  name: 'tenantry_cortex_actions_total',
  help: 'CortexAPI requests by action (FIND, GET, SET, DELETE) and result (ok, or the seed error code).',
  labelNames: ['action', 'code'] as const,
  registers: [registry],
});

export const provisioningQueueDepth = new Gauge({
  name: 'tenantry_provisioning_queue_depth',
  help: 'Provisioning requests not finished, by status (Requested, InProgress, Pending approval).',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const driverDuration = new Histogram({
  name: 'tenantry_provisioning_driver_duration_seconds',
  help: 'Time a provisioning driver took for one request, by driver and outcome (ok, retry, failed).',
  labelNames: ['driver', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const jobRuns = new Counter({
  name: 'tenantry_job_runs_total',
  help: 'Job runs ended, by task and status.',
  labelNames: ['task', 'status'] as const,
  registers: [registry],
});

export const billingRunDuration = new Histogram({
  name: 'tenantry_billing_run_duration_seconds',
  help: 'Time to rebuild one billing period, by run kind and outcome.',
  labelNames: ['kind', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [registry],
});

export const billingRunItems = new Counter({
  name: 'tenantry_billing_run_items_total',
  help: 'Bill items produced by billing runs, by run kind.',
  labelNames: ['kind'] as const,
  registers: [registry],
});

/** Seconds since a performance.now() reading. */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
