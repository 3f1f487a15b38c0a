/**
 * ConnectWise Manage REST 3.0 shapes used by the billing sync (psa-wire.md B.4, B.6).
 * Only the fields the sync reads or writes are typed; the API returns more.
 */

/** `_info` map on every object (B.4). Keys other than `lastUpdated`/`updatedBy` are unconfirmed. */
export type CwInfo = Record<string, string>;

/** A reference as read back: `{ id, identifier?, name?, _info }` (B.4). */
export interface CwReference {
  id: number;
  identifier?: string;
  name?: string;
  _info?: CwInfo;
}

/** A reference as written: by id or by identifier (B.4). */
export type CwReferenceInput = { id: number } | { identifier: string };

export interface CwCompany {
  id: number;
  identifier: string;
  name: string;
  status?: CwReference;
  deletedFlag?: boolean;
  _info?: CwInfo;
}

export const AGREEMENT_STATUSES = ['Active', 'Cancelled', 'Expired', 'Inactive'] as const;
export type CwAgreementStatus = (typeof AGREEMENT_STATUSES)[number];

export interface CwAgreementType {
  id: number;
  name: string;
  inactiveFlag?: boolean;
  _info?: CwInfo;
}

export interface CwAgreement {
  id: number;
  name: string;
  type: CwReference;
  company: CwReference;
  agreementStatus?: CwAgreementStatus;
  startDate?: string;
  endDate?: string | null;
  noEndingDateFlag?: boolean;
  cancelledFlag?: boolean;
  prorateFlag?: boolean;
  invoiceProratedAdditionsFlag?: boolean;
  _info?: CwInfo;
}

export const BILL_CUSTOMER_VALUES = ['Billable', 'DoNotBill', 'NoCharge'] as const;
export type CwBillCustomer = (typeof BILL_CUSTOMER_VALUES)[number];

export interface CwAddition {
  id: number;
  product: CwReference;
  quantity: number;
  lessIncluded?: number;
  unitPrice?: number;
  unitCost?: number;
  billCustomer: CwBillCustomer;
  effectiveDate?: string | null;
  cancelledDate?: string | null;
  taxableFlag?: boolean;
  description?: string;
  invoiceDescription?: string;
  agreementId: number;
  /** Derived by the server (B.6). */
  extPrice?: number;
  extCost?: number;
  margin?: number;
  agreementStatus?: CwAgreementStatus;
  _info?: CwInfo;
}

/** POST body for a new addition: `product` and `billCustomer` are required (B.6). */
export interface CwAdditionInput {
  product: CwReferenceInput;
  billCustomer: CwBillCustomer;
  quantity: number;
  effectiveDate?: Date | string;
  unitPrice?: number;
  unitCost?: number;
  lessIncluded?: number;
  description?: string;
  invoiceDescription?: string;
  taxableFlag?: boolean;
}

export interface CwCatalogItem {
  id: number;
  identifier: string;
  description: string;
  inactiveFlag: boolean;
  price?: number;
  cost?: number;
  customerDescription?: string;
  _info?: CwInfo;
}

/** JSON-Patch operation: `path` is the field name without a leading slash (B.4). */
export interface CwPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** `ErrorResponseMessage` (B.5). */
export interface CwErrorResponse {
  code: string;
  message: string;
  errors?: { code: string; message: string; resource: string; field: string; details?: unknown }[];
}
