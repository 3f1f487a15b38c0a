/**
 * Typed domain errors. Each carries a stable name; API edges map names to wire codes
 * (CortexAPI exception codes, REST statuses) in one table each.
 */
export const DOMAIN_ERROR_NAMES = [
  'Unknown',
  'CustomerError',
  'InvalidXmlFormat',
  'InvalidAction',
  'InvalidNewCustomer',
  'InvalidUnlimited',
  'InvalidNumericType',
  'InvalidService',
  'NotAuthenticated',
  'NotAuthorized',
  'ReportError',
  'ReportNotFound',
  'InvalidUser',
  'UserNotFound',
  'InvalidStatus',
  'InvalidReference',
  'InvalidProperty',
  'LocationNotFound',
  'ServiceNotFound',
  'RoleNotFound',
  'LocationError',
  'InvalidBoolean',
  'CustomerNotFound',
  'InvalidAccountExpiration',
  'InvalidPasswordExpiration',
  'InvalidInteger',
  'RequestNotFound',
  'Conflict',
  'ValidationError',
  'NotFound',
  // A request over one of the configured limits (size, elements, results): resending it unchanged always fails.
  'LimitExceeded',
  // The caller's share of the server is used up for now (rate or concurrency limit).
  'TooManyRequests',
  // The whole server is near its memory limit and refuses new work for now.
  'Overloaded',
  // The request's work ran past its time limit: answered, its database work cancelled, nothing committed.
  'TimedOut',
] as const;

export type DomainErrorName = (typeof DOMAIN_ERROR_NAMES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorName,
    message: string,
    /** retryAfterSeconds, when present, becomes a Retry-After header at every API edge. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const customerNotFound = (ref: string): DomainError => new DomainError('CustomerNotFound', `Customer '${ref}' not found.`, { ref });

export const userNotFound = (ref: string): DomainError => new DomainError('UserNotFound', `User '${ref}' not found.`, { ref });

export const serviceNotFound = (ref: string): DomainError => new DomainError('ServiceNotFound', `Service '${ref}' not found.`, { ref });

export const locationNotFound = (ref: string): DomainError => new DomainError('LocationNotFound', `Location '${ref}' not found.`, { ref });

export const notAuthorized = (what: string): DomainError => new DomainError('NotAuthorized', `Not authorized: ${what}`);

export const validation = (message: string, details: Record<string, unknown> = {}): DomainError =>
  new DomainError('ValidationError', message, details);

/** Load-or-fail: the one place a missing row becomes a typed error. */
export function must<T>(row: T | undefined | null, error: () => DomainError): T {
  if (row === undefined || row === null) throw error();
  return row;
}
