/*
 * A customer's explicit PSA contract choice (issue 11 §6). Stored as the customer's additional
 * properties PsaContractId (Autotask Recurring Service contract id) and PsaAgreementId (ConnectWise
 * agreement id), so the CortexAPI sets them like any other customer property; the CLI and the
 * console call setPsaMapping, which goes through the customer's own update (scope, provisioning
 * request) like every other customer change.
 */
import type { Tx } from '../../../core/db/database.js';
import { DomainError, validation } from '../../../core/errors.js';
import { requirePermission, type Caller } from '../../../tenancy/caller.js';
import { getCustomer, updateCustomer, type Customer, type CustomerFields } from '../../../tenancy/customer.service.js';
import type { CustomerRef } from '../../../tenancy/customer.queries.js';

export const PSA_CONTRACT_PROPERTY = 'PsaContractId';
export const PSA_AGREEMENT_PROPERTY = 'PsaAgreementId';

export interface PsaMapping {
  /** Autotask Recurring Service contract id; null: the sync's rule chooses. */
  autotaskContractId: number | null;
  /** ConnectWise agreement id; null: the sync's rule chooses. */
  connectwiseAgreementId: number | null;
}

const KEYS = { autotaskContractId: PSA_CONTRACT_PROPERTY, connectwiseAgreementId: PSA_AGREEMENT_PROPERTY } as const;

/** The mapping as stored in a customer's properties; a value that is no id (set by hand through the CortexAPI) reads as null. */
export function psaMappingOf(customer: Pick<Customer, 'properties'>): PsaMapping {
  const read = (name: string): number | null => {
    const value = Object.entries(customer.properties).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    return value !== undefined && /^\d{1,15}$/.test(value.trim()) && Number(value) > 0 ? Number(value) : null;
  };
  return { autotaskContractId: read(PSA_CONTRACT_PROPERTY), connectwiseAgreementId: read(PSA_AGREEMENT_PROPERTY) };
}

/**
 * Sets (a positive integer) or clears (null) either choice; fields left out keep their value.
 * `fields` are other changes to the customer made in the same update (the console's edit page
 * saves everything at once); their `properties`, when given, replace the stored ones before the
 * mapping is applied. Changing the mapping is a billing decision taken from above, as whom a
 * customer is billed to is: it needs "Manage Customers", and a customer's own users cannot change
 * their own customer's (the provider's root customer excepted). Saving it unchanged needs nothing.
 */
export async function setPsaMapping(
  tx: Tx,
  caller: Caller,
  ref: CustomerRef,
  change: Partial<PsaMapping>,
  fields: CustomerFields = {},
): Promise<{ mapping: PsaMapping; customer: Customer; requestId: number | undefined }> {
  const current = await getCustomer(tx, caller, ref);
  const before = psaMappingOf(current);
  const properties = { ...(fields.properties ?? current.properties) };
  for (const [field, name] of Object.entries(KEYS) as [keyof PsaMapping, string][]) {
    const value = change[field];
    if (value === undefined) continue;
    if (value !== null && !(Number.isSafeInteger(value) && value > 0))
      throw validation(`${name} must be a positive whole number, or empty to let the sync choose.`, { field: name });
    for (const key of Object.keys(properties)) if (key.toLowerCase() === name.toLowerCase()) delete properties[key];
    if (value !== null) properties[name] = String(value);
    if (value !== before[field]) assertMayChangeMapping(caller, current);
  }
  const { customer, requestId } = await updateCustomer(tx, caller, { id: current.id }, { ...fields, properties });
  return { mapping: psaMappingOf(customer), customer, requestId };
}

function assertMayChangeMapping(caller: Caller, customer: Customer): void {
  requirePermission(caller, 'Manage Customers');
  if (customer.id === caller.customerId && customer.parentId !== null)
    throw new DomainError('NotAuthorized', "A user cannot change its own customer's PSA contract or agreement.");
}
