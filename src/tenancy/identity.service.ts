import type { Executor } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import type { Caller } from './caller.js';
import { getCustomer, type Customer } from './customer.service.js';
import { findUser, type User } from './user.service.js';

export interface Identity {
  customer: Customer;
  /** Absent only for the platform's own system caller, which has no user row. */
  user: User | undefined;
}

/** The requesting user and its customer (seed: "Get Requesters' details"). */
export async function getIdentity(db: Executor, caller: Caller): Promise<Identity> {
  const customer = await getCustomer(db, caller, { id: caller.customerId });
  if (caller.userId === null) return { customer, user: undefined };
  const user = must(
    await findUser(db, caller, customer, { id: caller.userId }),
    () => new DomainError('NotAuthenticated', 'The requesting user no longer exists.'),
  );
  return { customer, user };
}
