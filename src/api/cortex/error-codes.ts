import { DomainError, type DomainErrorName } from '../../core/errors.js';

/** Appendix A exception codes: every domain error maps to exactly one (compile-time exhaustive). */
export const CORTEX_CODE = {
  Unknown: 0,
  CustomerError: 1,
  InvalidXmlFormat: 3,
  InvalidAction: 5,
  InvalidNewCustomer: 6,
  InvalidUnlimited: 7,
  InvalidNumericType: 9,
  InvalidService: 10,
  NotAuthenticated: 11,
  NotAuthorized: 12,
  ReportError: 13,
  ReportNotFound: 14,
  InvalidUser: 15,
  UserNotFound: 16,
  InvalidStatus: 17,
  InvalidReference: 18,
  InvalidProperty: 19,
  LocationNotFound: 20,
  ServiceNotFound: 21,
  RoleNotFound: 22,
  LocationError: 27,
  InvalidBoolean: 32,
  CustomerNotFound: 34,
  InvalidAccountExpiration: 36,
  InvalidPasswordExpiration: 37,
  InvalidInteger: 38,
  // No Appendix A code of their own: "0 Unknown – details in error message".
  RequestNotFound: 0,
  Conflict: 0,
  ValidationError: 0,
  NotFound: 0,
  LimitExceeded: 0,
  TooManyRequests: 0,
  Overloaded: 0,
  TimedOut: 0,
} satisfies Record<DomainErrorName, number>;

/**
 * The seed's HTTP statuses: 401 for credentials/permissions, 500 only when resending may
 * work later, 400 for everything that will always fail. Fair-use refusals are the standard
 * 429/503 with Retry-After, which every HTTP client and proxy understands (docs/decisions.md).
 */
export function httpStatusOf(error: DomainError): 400 | 401 | 429 | 500 | 503 {
  // A throttled sign-in keeps code 11 for clients that read only the code; 429 + Retry-After say when to retry.
  if (error.code === 'NotAuthenticated' && typeof error.details.retryAfterSeconds === 'number') return 429;
  if (error.code === 'NotAuthenticated' || error.code === 'NotAuthorized') return 401;
  if (error.code === 'TooManyRequests') return 429;
  if (error.code === 'Overloaded' || error.code === 'TimedOut') return 503;
  if (error.code === 'Unknown') return 500;
  return 400;
}

export function cortexCodeOf(error: DomainError): number {
  return CORTEX_CODE[error.code];
}
