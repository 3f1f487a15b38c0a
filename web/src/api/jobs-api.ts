/** Configuration > Jobs: jobs, their editor's helpers, runs and run logs (docs/console-api.md). */
import { http, withQuery } from './client';
// The server's own wire types, so the console cannot drift from them (types only: nothing of the server is bundled).
import type { LogLevel } from '../../../src/jobs/log-level.js';
import type { RunStatus } from '../../../src/jobs/run-status.js';
import type { SyncChange } from '../../../src/integrations/psa/shared/sync-model.js';

export type { LogLevel, RunStatus, SyncChange };

export interface Job {
  id: number;
  label: string;
  task: string;
  taskLabel: string;
  logLevel: LogLevel;
  cron: string;
  timeZone: string;
  parameters: Record<string, unknown>;
  secretsSet: string[];
  enabled: boolean;
  nextRunAt: string | null;
  lastRun: { id: number; status: RunStatus; startedAt: string | null; finishedAt: string | null } | null;
  createdAt: string;
  modifiedAt: string;
}

export interface TaskInfo {
  id: string;
  label: string;
  parameters: Record<string, { default: unknown; description: string }>;
  defaults: Record<string, unknown>;
  secrets: string[];
}

export interface JobInput {
  label: string;
  task: string;
  logLevel: LogLevel;
  cron: string;
  parameters: string;
  secrets?: Record<string, string>;
  enabled?: boolean;
}

export interface Run {
  id: number;
  jobId: number;
  status: RunStatus;
  trigger: string;
  dryRun: boolean;
  requestedBy: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: { errors: number; warnings: number; info: number; verbose: number; changed: number };
  message: string | null;
}

export interface RunDetail extends Run {
  changes: SyncChange[];
}

export interface LogEntry {
  id: number;
  time: string;
  code: string;
  level: LogLevel;
  message: string;
}

export type LogSort = 'time' | 'code' | 'level';
export interface LogQuery {
  sort: LogSort;
  order: 'asc' | 'desc';
  search: string;
}

export const jobsApi = {
  list: () => http.get<{ jobs: Job[]; timeZone: string }>('/jobs'),
  tasks: () => http.get<{ tasks: TaskInfo[]; logLevels: LogLevel[]; timeZone: string }>('/jobs/tasks'),
  get: (id: number) => http.get<Job>(`/jobs/${id}`),
  schedule: (cron: string) =>
    http.get<{ cron: string; timeZone: string; description: string; nextRuns: string[] }>('/jobs/schedule', { cron }),
  check: (task: string, parameters: string) =>
    http.post<{ errors: { field: string; message: string }[]; parameters: Record<string, unknown> | null }>('/jobs/check', {
      task,
      parameters,
    }),
  create: (input: JobInput) => http.post<Job>('/jobs', input),
  update: (id: number, input: Partial<JobInput>) => http.patch<Job>(`/jobs/${id}`, input),
  remove: (id: number) => http.delete<void>(`/jobs/${id}`),
  enable: (id: number) => http.post<Job>(`/jobs/${id}/enable`, {}),
  disable: (id: number) => http.post<Job>(`/jobs/${id}/disable`, {}),
  runNow: (id: number) => http.post<RunDetail>(`/jobs/${id}/run`, { dryRun: false }),
  dryRun: (id: number) => http.post<RunDetail>(`/jobs/${id}/run`, { dryRun: true }),
  runs: (id: number) => http.get<{ runs: Run[] }>(`/jobs/${id}/runs`),
  run: (runId: number) => http.get<RunDetail>(`/jobs/runs/${runId}`),
  logs: (runId: number, q: LogQuery) => http.get<{ entries: LogEntry[] }>(`/jobs/runs/${runId}/logs`, { ...q }),
  /** A download link (the session cookie authenticates a plain GET). */
  logsFile: (runId: number, q: LogQuery, format: 'csv' | 'xlsx') => withQuery(`/api/console/jobs/runs/${runId}/logs`, { ...q, format }),
};
