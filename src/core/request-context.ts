import { AsyncLocalStorage } from 'node:async_hooks';
import { DomainError } from './errors.js';

/** What every log line written while serving one HTTP request carries, and the request's deadline. */
export interface RequestContext {
  requestId: string;
  /** Aborted when the request's time is up: its database work is cancelled and nothing more of it commits. */
  deadline?: AbortSignal;
  /** Moves the deadline to this many milliseconds after the request began, if that is later. */
  allowTime?: (ms: number) => void;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The id of the HTTP request being served, when there is one. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** The deadline of the HTTP request being served; undefined outside requests (jobs, workers, the CLI). */
export function currentDeadline(): AbortSignal | undefined {
  return requestContext.getStore()?.deadline;
}

/**
 * Work with a stated limit of its own (a report's timeout, at most 10 minutes) may take that long
 * when it runs for an HTTP request; it then enforces that limit itself.
 */
export function allowRequestTime(ms: number): void {
  requestContext.getStore()?.allowTime?.(ms);
}

export function requestTimedOut(): DomainError {
  return new DomainError(
    'TimedOut',
    'The request took longer than the server allows and was stopped; nothing it changed was kept. Try again later, or ask for less at once.',
  );
}
