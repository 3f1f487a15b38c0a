import type { RequestAction, RequestEntity } from '../schema.js';

/** What a driver needs to push one entity's configuration to the system that delivers the service. */
export interface DriverCustomer {
  id: number;
  name: string;
  fullname: string;
  primaryDomain: string;
  enabled: boolean;
  /** Short codes from the root down to this customer's parent, e.g. ["SP", "RES1"]: nested OUs per reseller. */
  ancestry: string[];
}

export interface DriverUser {
  id: number;
  name: string;
  upn: string;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  email: string | null;
  enabled: boolean;
  /** Plaintext password, present only on the request that sets it; never stored or logged. */
  password?: string;
}

export interface DriverService {
  code: string;
  fullname: string;
  planName: string | null;
  userPlanName: string | null;
  properties: Record<string, string>;
}

export interface DriverTask {
  requestId: number;
  attempt: number;
  entity: RequestEntity;
  action: RequestAction;
  customer: DriverCustomer;
  user?: DriverUser;
  service?: DriverService;
  /**
   * Names of the users that hold this customer service (for group membership). On a
   * customer_service provision/update it is the complete membership (the ldap driver makes the
   * group match it, [] = nobody); left undefined, existing membership is kept. user_service
   * tasks need no list: they add or remove `user` alone.
   */
  members?: string[];
  desired: Record<string, unknown>;
}

export interface DriverLog {
  info(message: string): void;
  warning(message: string): void;
  verbose(message: string): void;
  /** Time one step; shows under <times/> of the request. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Thrown by a driver for faults worth retrying (timeouts, 5xx, connection refused).
 * Any other error fails the request at once.
 */
export class TransientDriverError extends Error {
  override name = 'TransientDriverError';
}

/**
 * One interface for every provisioning target. Implementations must be idempotent:
 * a request re-run after a crash must not do the work twice.
 */
export interface ProvisioningDriver {
  readonly name: string;
  run(task: DriverTask, log: DriverLog): Promise<void>;
  close?(): Promise<void>;
}
