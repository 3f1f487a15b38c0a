/**
 * Autotask REST v1.0 entity shapes used by the billing sync (psa-wire.md A.9). Only the
 * fields the sync reads or writes are typed; the API returns more.
 */

/** `userDefinedFields` entry (psa-wire.md A.4). */
export interface AtUserDefinedField {
  name: string;
  value: string | null;
}

export interface AtCompany {
  id: number;
  companyName: string;
  companyNumber: string | null;
  companyType: number;
  isActive: boolean;
  userDefinedFields: AtUserDefinedField[];
}

/** Picklist value of `Contracts.contractType` for Recurring Service (the only confirmed value, A.9). */
export const RECURRING_SERVICE_CONTRACT_TYPE = 7;

export interface AtContract {
  id: number;
  companyID: number;
  contractName: string;
  contractNumber: string | null;
  contractType: number;
  status: number;
  /** UTC, `yyyy-mm-ddThh:mm:ss` (A.5). */
  startDate: string;
  endDate: string;
  isDefaultContract: boolean;
  userDefinedFields: AtUserDefinedField[];
}

export interface AtService {
  id: number;
  name: string;
  description: string | null;
  invoiceDescription: string | null;
  unitPrice: number;
  unitCost: number | null;
  periodType: number;
  isActive: boolean;
  sku: string | null;
  userDefinedFields: AtUserDefinedField[];
}

/** A service on a Recurring Service contract. It holds no quantity: units live in ContractServiceUnits. */
export interface AtContractService {
  id: number;
  contractID: number;
  serviceID: number;
  unitPrice: number | null;
  unitCost: number | null;
  adjustedPrice: number | null;
  invoiceDescription: string | null;
  internalDescription: string | null;
}

/** Read-only per-period unit record (A.9). */
export interface AtContractServiceUnit {
  id: number;
  contractID: number;
  contractServiceID: number;
  serviceID: number;
  startDate: string;
  endDate: string;
  units: number;
  price: number;
  cost: number | null;
}

/** Create-only unit change (A.9). `unitChange` is a delta, not a target. */
export interface AtContractServiceAdjustmentInput {
  contractID: number;
  serviceID: number;
  contractServiceID?: number;
  unitChange: number;
  /** Date-only semantics: the API keeps the date and sets the time to midnight (A.5). A Date is sent as its UTC day. */
  effectiveDate: Date | string;
  adjustedUnitPrice?: number;
  adjustedUnitCost?: number;
}

export interface AtContractServiceInput {
  contractID: number;
  serviceID: number;
  unitPrice: number;
  unitCost?: number;
  invoiceDescription?: string;
  internalDescription?: string;
}

/** `ZoneInformationResultModel` (A.1). */
export interface AtZoneInformation {
  zoneName: string;
  /** REST root without the version, for example `https://webservices5.autotask.net/atservicesrest/`. */
  url: string;
  webUrl: string;
  ci: number;
}

/** `pageDetails` of a query response (A.4). */
export interface AtPageDetails {
  count: number;
  requestCount: number;
  prevPageUrl: string | null;
  nextPageUrl: string | null;
}

export interface AtQueryResponse<T> {
  items: T[];
  pageDetails: AtPageDetails;
}

/** `OperationResultModel` returned by create and update (A.3). */
export interface AtOperationResult {
  itemId: number;
}

/** `ThresholdInformation` (A.1). */
export interface AtThresholdInformation {
  externalRequestThreshold: number;
  requestThresholdTimeframe: number;
  currentTimeframeRequestCount: number;
}
