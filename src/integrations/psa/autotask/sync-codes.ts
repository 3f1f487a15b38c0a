import type { CodeDef } from '../shared/sync-model.js';

type Customer = { customerName: string };
type Line = Customer & { lineDescription: string };

const def = <P = void>(level: CodeDef<P>['level'], text: (p: P) => string): CodeDef<P> => ({ level, text });

/**
 * Autotask log codes, levels and messages exactly as seed 003 "Autotask Log Codes and
 * Messages" lists them, with each (placeholder) filled in.
 */
export const AT_CODES = {
  AT01: def<{ periodEndDate: string }>('Info', (p) => `Billing Process Started: For Billing Period ${p.periodEndDate}`),
  AT02: def<{ error: string }>('Error', (p) => `Failed to connect to Autotask: Error reported was: ${p.error}`),
  AT03: def<{ error: string }>('Error', (p) => `Failed to connect to Atria: Error reported was: ${p.error}`),
  AT04: def<Customer & { customerCode: string }>(
    'Warning',
    (p) =>
      `${p.customerCode} CompanyID Missing Unable to process records for Atria Customer ${p.customerName} – Please add CompanyNumber from Autotask into Billing Identifier field on Customer.`,
  ),
  AT05: def<Customer & { customerAccountCode: string }>(
    'Error',
    (p) =>
      `No Company with Customer Number for ${p.customerAccountCode} Found. Check Autotask to see if the customer: ${p.customerName} with Company Number: ${p.customerAccountCode} exists in Autotask.`,
  ),
  AT06: def<Customer & { customerAccountCode: string }>(
    'Warning',
    (p) =>
      `No Contract exists for the Customer ${p.customerName}. Check Autotask to see if customer ${p.customerName} and a Recurring Service Contract with Contract Number: ${p.customerAccountCode} exists in Autotask.`,
  ),
  AT07: def<Line>(
    'Warning',
    (p) =>
      `${p.customerName} SKU Missing in Atria: ${p.customerName}: Skipped Line ${p.lineDescription} for Customer ${p.customerName} as no SKU was provided.`,
  ),
  // The seed's AT08 text ends "as no SKU was provided" although the SKU was; it is kept verbatim for log parsers.
  AT08: def<Line>(
    'Warning',
    (p) =>
      `${p.customerName} Service Missing in Autotask: ${p.customerName}: Skipped Line ${p.lineDescription} for Customer ${p.customerName} as no SKU was provided.`,
  ),
  AT09: def<Line & { sku: string; oldValue: string; newValue: string }>(
    'Info',
    (p) =>
      `${p.customerName} Quantity Update: Line located for ${p.lineDescription} with Product ID ${p.sku} and updated from ${p.oldValue} to ${p.newValue}.`,
  ),
  AT10: def<Customer & { name: string }>(
    'Verbose',
    (p) => `${p.customerName} Contract Line for ${p.name} located – quantity is unchanged.`,
  ),
  AT11: def<Customer & { name: string; id: number }>(
    'Info',
    (p) => `${p.customerName} Contract Line Added: New Line added for ${p.name} with Service ID ${p.id}.`,
  ),
  AT12: def<Line & { sku: string }>(
    'Warning',
    (p) =>
      `${p.customerName} Contract Line Missing in Autotask: Skipped Line ${p.lineDescription} with Product ID ${p.sku} for Customer ${p.customerName} as the Contract Service SKU could not be located in Autotask.`,
  ),
  AT13: def<Customer & { serviceDescription: string; serviceName: string; units: string }>(
    'Info',
    (p) =>
      `${p.customerName} Line located for ${p.serviceDescription} with Service Name ${p.serviceName} is being removed in the selected billing period. The Quantity is updated from ${p.units} to 0.00.`,
  ),
  AT14: def<Customer & { sku: string; error: string }>(
    'Error',
    (p) => `${p.customerName} ContractService ${p.sku}, Error Details ${p.error}.`,
  ),
  AT15: def<{ billingDate: string }>('Warning', (p) => `No records found in Atria for billing period: ${p.billingDate}.`),
  AT16: def<{ message: string }>('Error', (p) => `Failed to retrieve autotask secrets. Error occurred is: ${p.message}.`),
  AT17: def('Error', () => 'Failed to Retrieve Job Task Parameters: Error reported was: user email is not valid.'),
  AT18: def<{ secret: string }>('Error', (p) => `Failed to validate Autotask secrets. ${p.secret} must have a valid value.`),
  AT19: def('Error', () => 'Incorrect billing period date or format recognized.'),
  AT20: def('Verbose', () => 'Started Processing Deprovisioned Customers.'),
  AT21: def('Verbose', () => 'Finished Processing Deprovisioned Customers.'),
  AT22: def<{ taskTypeId: string }>('Verbose', (p) => `Autotask Worker Task Service ${p.taskTypeId} started.`),
  AT23: def<{ error: string }>('Error', (p) => `Failed to Deserialize object: Error reported was: ${p.error}.`),
  AT24: def<{ status: string }>('Info', (p) => `Billing Process Completed with status ${p.status}.`),
  // Tenantry's own codes after the seed's table (docs/decisions.md "PSA data errors", "Contract choice").
  AT25: def<Customer & { entity: string; id: string; field: string; value: string }>(
    'Warning',
    (p) =>
      `${p.customerName} Unexpected Autotask data: ${p.entity} ${p.id} has an invalid ${p.field} (${p.value}). The customer is skipped until it is corrected.`,
  ),
  AT26: def<Customer & { candidates: string; chosen: string }>(
    'Warning',
    (p) =>
      `${p.customerName} Several Recurring Service contracts match: ${p.candidates}. Using ${p.chosen} (active on the effective date, latest start date, then lowest id); set the customer's PsaContractId property to choose.`,
  ),
};

export type AtCode = keyof typeof AT_CODES;
