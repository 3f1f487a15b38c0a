import type { CodeDef } from '../shared/sync-model.js';

type Short = { customerCode: string };
type Line = { lineDescription: string; sku: string };

const def = <P = void>(level: CodeDef<P>['level'], text: (p: P) => string): CodeDef<P> => ({ level, text });

/**
 * ConnectWise log codes, levels and messages exactly as seed 004's code table lists them
 * ("Warn" is the Warning level), with each {placeholder} filled in.
 */
export const CW_CODES = {
  CW01: def<{ periodEndDate: string }>('Info', (p) => `Billing Process Started : For Billing Period ${p.periodEndDate}`),
  CW02: def<{ error: string }>('Error', (p) => `Failed to connect to Connectwise: Error reported was : ${p.error}`),
  CW03: def<{ error: string }>('Error', (p) => `Failed to connect to Atria: Error reported was : ${p.error}`),
  CW04: def<Short & { customerName: string }>(
    'Warning',
    (p) =>
      `${p.customerCode} CompanyID Missing Unable to process records for Atria Customer ${p.customerName} – Please add CompanyID from ConnectWise into Billing Identifier field on Customer`,
  ),
  CW05: def<Short & { customerName: string; lineDescription: string }>(
    'Warning',
    (p) =>
      `${p.customerCode} SKU Missing in Atria : ${p.customerCode} : Skipped Line ${p.lineDescription} for Customer ${p.customerName} as no SKU was provided`,
  ),
  CW06: def<Short & Line & { customerName: string }>(
    'Warning',
    (p) =>
      `${p.customerCode} Product Missing : Skipped Line ${p.lineDescription} with Product ID ${p.sku} for Customer ${p.customerName} as the SKU could not be located in ConnectWise. Please add this product in ConnectWise portal`,
  ),
  CW07: def<Short & Line & { before: string; after: string }>(
    'Info',
    (p) =>
      `${p.customerCode} Quantity Update : Line located for ${p.lineDescription} with Product ID ${p.sku} and updated from ${p.before} to ${p.after}`,
  ),
  CW08: def<Short & Line>(
    'Info',
    (p) => `${p.customerCode} Contract Line Added : New Line added for ${p.lineDescription} with Product ID ${p.sku}`,
  ),
  CW09: def<Short & { lineDescription: string }>(
    'Verbose',
    (p) => `${p.customerCode} Contract Line for ${p.lineDescription} located – quantity is unchanged`,
  ),
  CW10: def<Short & Line & { error: string }>(
    'Error',
    (p) => `${p.customerCode} Contract Line ${p.lineDescription}, SKU ${p.sku}, Error Details ${p.error}`,
  ),
  // The seed fills "SKU" with the line description too; kept verbatim for log parsers.
  CW11: def<{ customerName: string; lineDescription: string; error: string }>(
    'Error',
    (p) => `${p.customerName} Catalog Item ${p.lineDescription}, SKU ${p.lineDescription}, Error Details ${p.error}`,
  ),
  CW12: def<{ customerName: string; sku: string; error: string }>(
    'Error',
    (p) => `${p.customerName} Addition ${p.sku}, Error Details ${p.error}`,
  ),
  CW13: def<{ error: string }>('Error', (p) => `Failed to Deserialize object: Error reported was: ${p.error}`),
  CW14: def<{ customerName: string; customerAccountCode: string; agreementType: string }>(
    'Warning',
    (p) =>
      `No Agreement exists for the customer ${p.customerName}. Check ConnectWise to see if the customer: ${p.customerName} with Id: ${p.customerAccountCode} and agreement type: ${p.agreementType} exists.`,
  ),
  CW15: def<{ invoiceDate: string }>('Warning', (p) => `No records found in Atria for billing period ${p.invoiceDate}.`),
  CW16: def<{ message: string }>('Error', (p) => `Failed to retrieve ConnectWise secrets. Error occurred is: ${p.message}`),
  CW17: def('Error', () => 'Failed to Retrieve Job Task Parameters: Error reported was: api url is not available'),
  CW18: def<{ property: string }>('Error', (p) => `Failed to validate ConnectWise secrets. ${p.property} must have a valid value`),
  CW19: def('Error', () => 'Incorrect billing period date or format'),
  CW20: def<Line & { customerName: string; quantity: string }>(
    'Warning',
    (p) =>
      `${p.customerName}| Line located for ${p.lineDescription} with Product ID ${p.sku} is been removed in the selected billing period. The Quantity is updated from ${p.quantity} to 0.00`,
  ),
  CW21: def('Error', () => 'Invalid agreement type. Please check agreement type in job parameters.'),
  CW22: def<Line & { customerName: string }>(
    'Warning',
    (p) =>
      `Contract Line Missing in ConnectWise : Skipped Line ${p.lineDescription} with Product ID ${p.sku} for Customer ${p.customerName} as the SKU could not be located in ConnectWise`,
  ),
  CW23: def<{ status: string }>('Info', (p) => `Billing Process Completed with status ${p.status}`),
  // Tenantry's own codes after the seed's table (docs/decisions.md "PSA data errors", "Contract choice").
  CW24: def<{ customerName: string; entity: string; id: string; field: string; value: string }>(
    'Warning',
    (p) =>
      `${p.customerName}| Unexpected ConnectWise data: ${p.entity} ${p.id} has an invalid ${p.field} (${p.value}). The customer is skipped until it is corrected`,
  ),
  CW25: def<{ customerName: string; agreementType: string; candidates: string; chosen: string }>(
    'Warning',
    (p) =>
      `${p.customerName}| Several agreements of type ${p.agreementType} match: ${p.candidates}. Using ${p.chosen} (latest start date, then lowest id); set the customer's PsaAgreementId property to choose`,
  ),
};

export type CwCode = keyof typeof CW_CODES;
