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
} satisfies Record<DomainErrorName, number>;

/**
 * The seed's HTTP statuses: 401 for credentials/permissions, 500 only when resending may
 * work later, 400 for everything that will always fail.
 */
export function httpStatusOf(error: DomainError): 400 | 401 | 500 {
  if (error.code === 'NotAuthenticated' || error.code === 'NotAuthorized') return 401;
  if (error.code === 'Unknown') return 500;
  return 400;
}

export function cortexCodeOf(error: DomainError): number {
  return CORTEX_CODE[error.code];
}
