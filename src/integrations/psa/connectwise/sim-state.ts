import { readPath } from './sim-conditions.js';
import {
  BILL_CUSTOMER_VALUES,
  type CwAddition,
  type CwAgreement,
  type CwAgreementStatus,
  type CwAgreementType,
  type CwCatalogItem,
  type CwCompany,
  type CwErrorResponse,
  type CwInfo,
  type CwPatchOperation,
} from './types.js';

type ValidationError = NonNullable<CwErrorResponse['errors']>[number];

/** Raised by the simulator; rendered as `ErrorResponseMessage` (psa-wire.md B.5). */
export class CwSimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: ValidationError[] = [],
  ) {
    super(message);
  }

  get body(): CwErrorResponse {
    return { code: this.code, message: this.message, errors: this.errors };
  }
}

export type CwRow = Record<string, unknown> & { id: number };

/** Known top-level fields per resource, so conditions on unknown fields fail (B.6 field lists, abridged). */
export const CW_FIELDS = {
  companies: ['id', 'identifier', 'name', 'status', 'types', 'deletedFlag', 'accountNumber', '_info'],
  agreementTypes: ['id', 'name', 'defaultFlag', 'inactiveFlag', 'prePaymentFlag', '_info'],
  agreements: [
    'id',
    'name',
    'type',
    'company',
    'contact',
    'agreementStatus',
    'startDate',
    'endDate',
    'noEndingDateFlag',
    'cancelledFlag',
    'dateCancelled',
    'billingCycle',
    'prorateFlag',
    'invoiceProratedAdditionsFlag',
    'customerPO',
    '_info',
  ],
  additions: [
    'id',
    'product',
    'quantity',
    'lessIncluded',
    'unitPrice',
    'unitCost',
    'billCustomer',
    'effectiveDate',
    'cancelledDate',
    'taxableFlag',
    'serialNumber',
    'invoiceDescription',
    'description',
    'purchaseItemFlag',
    'specialOrderFlag',
    'agreementId',
    'billedQuantity',
    'uom',
    'extPrice',
    'extCost',
    'sequenceNumber',
    'margin',
    'agreementStatus',
    '_info',
  ],
  catalog: [
    'id',
    'identifier',
    'description',
    'inactiveFlag',
    'subcategory',
    'type',
    'price',
    'cost',
    'customerDescription',
    'recurringFlag',
    '_info',
  ],
} as const;

/** Computed by the server; not writable (B.6). */
const ADDITION_READ_ONLY = ['id', 'agreementId', 'extPrice', 'extCost', 'margin', 'agreementStatus', 'billedQuantity', '_info'];

const SIM_MEMBER = 'SimApiMember';

/** In-memory ConnectWise company: companies, agreement types, agreements, additions, catalog. */
export class ConnectWiseSimState {
  readonly companies = new Map<number, CwCompany>();
  readonly agreementTypes = new Map<number, CwAgreementType>();
  readonly agreements = new Map<number, CwAgreement>();
  readonly additions = new Map<number, CwAddition>();
  readonly catalog = new Map<number, CwCatalogItem>();
  #nextId = 100;

  // ---- seeding -----------------------------------------------------------------------

  addCompany(input: { identifier: string; name: string }): CwCompany {
    const company: CwCompany = { id: this.#id(), ...input, status: { id: 1, name: 'Active' }, deletedFlag: false, _info: info() };
    this.companies.set(company.id, company);
    return company;
  }

  addAgreementType(name: string): CwAgreementType {
    const type: CwAgreementType = { id: this.#id(), name, inactiveFlag: false, _info: info() };
    this.agreementTypes.set(type.id, type);
    return type;
  }

  /** Adds an agreement; the type is found by name and created when missing. */
  addAgreement(input: {
    companyIdentifier: string;
    typeName: string;
    name: string;
    agreementStatus?: CwAgreementStatus;
    startDate?: string;
  }): CwAgreement {
    const company = [...this.companies.values()].find((c) => c.identifier.toLowerCase() === input.companyIdentifier.toLowerCase());
    if (!company) throw new Error(`no company ${input.companyIdentifier}`);
    const type = [...this.agreementTypes.values()].find((t) => t.name === input.typeName) ?? this.addAgreementType(input.typeName);
    const agreement: CwAgreement = {
      id: this.#id(),
      name: input.name,
      type: { id: type.id, name: type.name, _info: {} },
      company: { id: company.id, identifier: company.identifier, name: company.name, _info: {} },
      agreementStatus: input.agreementStatus ?? 'Active',
      startDate: input.startDate ?? `${new Date().getUTCFullYear() - 1}-01-01T00:00:00Z`,
      endDate: null,
      noEndingDateFlag: true,
      cancelledFlag: input.agreementStatus === 'Cancelled',
      prorateFlag: true,
      invoiceProratedAdditionsFlag: true,
      _info: info(),
    };
    this.agreements.set(agreement.id, agreement);
    return agreement;
  }

  addCatalogItem(input: { identifier: string; description: string; price: number; cost?: number; inactiveFlag?: boolean }): CwCatalogItem {
    const item: CwCatalogItem = {
      id: this.#id(),
      inactiveFlag: false,
      cost: 0,
      customerDescription: input.description,
      ...input,
      _info: info(),
    };
    this.catalog.set(item.id, item);
    return item;
  }

  // ---- additions (B.6) ---------------------------------------------------------------

  /** POST: `product` and `billCustomer` are required; prices default from the catalog. */
  addAddition(agreementId: number, body: Record<string, unknown>): CwAddition {
    const agreement = this.#agreement(agreementId);
    const writable = this.#writableAdditionFields(body);
    const product = this.#resolveProduct(writable.product);
    const addition = {
      quantity: 0,
      lessIncluded: 0,
      unitPrice: product?.price ?? 0,
      unitCost: product?.cost ?? 0,
      taxableFlag: false,
      description: product?.description,
      invoiceDescription: product?.customerDescription,
      effectiveDate: `${new Date().toISOString().slice(0, 10)}T00:00:00Z`,
      cancelledDate: null,
      ...writable,
      id: this.#id(),
      agreementId,
    } as unknown as CwAddition;
    this.#finishAddition(addition, agreement);
    this.additions.set(addition.id, addition);
    return addition;
  }

  /** PATCH with a JSON-Patch array (B.4); `path` may carry a leading slash (accepted, unconfirmed). */
  patchAddition(agreementId: number, id: number, operations: unknown): CwAddition {
    const current = this.getAddition(agreementId, id);
    if (!Array.isArray(operations) || operations.length === 0) {
      throw invalid('agreementAddition', 'operations', 'A non-empty JSON-Patch array is required.');
    }
    const next = structuredClone(current) as unknown as Record<string, unknown>;
    for (const raw of operations as CwPatchOperation[]) applyOperation(next, raw);
    const writable = this.#writableAdditionFields(next);
    const updated = { ...current, ...writable } as CwAddition;
    this.#finishAddition(updated, this.#agreement(agreementId));
    this.additions.set(id, updated);
    return updated;
  }

  /** PUT: the whole object is replaced; fields left out fall back to defaults. */
  putAddition(agreementId: number, id: number, body: Record<string, unknown>): CwAddition {
    this.getAddition(agreementId, id);
    const replaced = this.addAddition(agreementId, body);
    this.additions.delete(replaced.id);
    replaced.id = id;
    this.additions.set(id, replaced);
    return replaced;
  }

  deleteAddition(agreementId: number, id: number): void {
    this.getAddition(agreementId, id);
    this.additions.delete(id);
  }

  getAddition(agreementId: number, id: number): CwAddition {
    const addition = this.additions.get(id);
    if (!addition || addition.agreementId !== agreementId) throw notFound('agreementAddition', id);
    return addition;
  }

  additionsOf(agreementId: number): CwAddition[] {
    return [...this.additions.values()].filter((a) => a.agreementId === agreementId);
  }

  /** Quantity of the first uncancelled addition for a product, for test assertions. */
  quantityOf(agreementId: number, productIdentifier: string): number | undefined {
    return this.additionsOf(agreementId).find(
      (a) => !a.cancelledDate && a.product.identifier?.toLowerCase() === productIdentifier.toLowerCase(),
    )?.quantity;
  }

  agreement(id: number): CwAgreement {
    return this.#agreement(id);
  }

  // ---- internals ---------------------------------------------------------------------

  #agreement(id: number): CwAgreement {
    const agreement = this.agreements.get(id);
    if (!agreement) throw notFound('agreement', id);
    return agreement;
  }

  /** Validates the writable fields of an addition body (B.6 required fields and enums). */
  #writableAdditionFields(body: Record<string, unknown>): Record<string, unknown> {
    const errors: ValidationError[] = [];
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (ADDITION_READ_ONLY.includes(key)) continue;
      if (!(CW_FIELDS.additions as readonly string[]).includes(key)) {
        errors.push(validation('InvalidField', `${key} is not a field of agreementAddition.`, key));
      } else out[key] = value;
    }
    if (out.product === undefined || out.product === null)
      errors.push(validation('MissingRequiredField', 'The product field is required.', 'product'));
    else if (!this.#resolveProduct(out.product))
      errors.push(validation('InvalidField', 'The product was not found in the catalog.', 'product'));
    if (out.billCustomer === undefined)
      errors.push(validation('MissingRequiredField', 'The billCustomer field is required.', 'billCustomer'));
    else if (!(BILL_CUSTOMER_VALUES as readonly unknown[]).includes(out.billCustomer)) {
      errors.push(validation('InvalidField', `billCustomer must be one of ${BILL_CUSTOMER_VALUES.join(', ')}.`, 'billCustomer'));
    }
    for (const field of ['quantity', 'lessIncluded', 'unitPrice', 'unitCost']) {
      if (out[field] !== undefined && (typeof out[field] !== 'number' || !Number.isFinite(out[field]))) {
        errors.push(validation('InvalidField', `${field} must be a number.`, field));
      }
    }
    for (const field of ['effectiveDate', 'cancelledDate']) {
      if (out[field] !== undefined && out[field] !== null && Number.isNaN(Date.parse(String(out[field])))) {
        errors.push(validation('InvalidField', `${field} must be a datetime.`, field));
      }
    }
    if (errors.length > 0) throw new CwSimError(400, 'InvalidObject', 'agreementAddition object is invalid', errors);
    const product = this.#resolveProduct(out.product) as CwCatalogItem;
    out.product = { id: product.id, identifier: product.identifier, _info: {} };
    return out;
  }

  #resolveProduct(ref: unknown): CwCatalogItem | undefined {
    if (typeof ref !== 'object' || ref === null) return undefined;
    const { id, identifier } = ref as { id?: unknown; identifier?: unknown };
    if (typeof id === 'number') return this.catalog.get(id);
    if (typeof identifier === 'string')
      return [...this.catalog.values()].find((c) => c.identifier.toLowerCase() === identifier.toLowerCase());
    return undefined;
  }

  /** Derived fields: extPrice = (quantity − lessIncluded) × unitPrice is the simulator's model (unconfirmed, B.6). */
  #finishAddition(addition: CwAddition, agreement: CwAgreement): void {
    const billed = (addition.quantity ?? 0) - (addition.lessIncluded ?? 0);
    addition.extPrice = cents(billed * (addition.unitPrice ?? 0));
    addition.extCost = cents(billed * (addition.unitCost ?? 0));
    addition.margin = cents(addition.extPrice - addition.extCost);
    addition.agreementStatus = agreement.agreementStatus;
    addition._info = info();
  }

  #id(): number {
    return this.#nextId++;
  }
}

function applyOperation(target: Record<string, unknown>, raw: CwPatchOperation): void {
  const op = raw?.op;
  const path = typeof raw?.path === 'string' ? raw.path.replace(/^\//, '') : '';
  if (op !== 'add' && op !== 'replace' && op !== 'remove')
    throw invalid('agreementAddition', 'op', `Unsupported patch op '${String(op)}'.`);
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw invalid('agreementAddition', 'path', 'A patch path is required.');
  if (ADDITION_READ_ONLY.includes(segments[0])) throw invalid('agreementAddition', segments[0], `${segments[0]} is read-only.`);
  const parent = segments.length === 1 ? target : readPath(target, segments.slice(0, -1));
  if (typeof parent !== 'object' || parent === null) throw invalid('agreementAddition', path, `Cannot patch ${path}.`);
  const leaf = segments[segments.length - 1];
  if (op === 'remove') (parent as Record<string, unknown>)[leaf] = null;
  else (parent as Record<string, unknown>)[leaf] = raw.value;
}

function info(): CwInfo {
  return { lastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), updatedBy: SIM_MEMBER };
}

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

function validation(code: string, message: string, field: string): ValidationError {
  return { code, message, resource: 'agreementAddition', field };
}

function invalid(resource: string, field: string, message: string): CwSimError {
  return new CwSimError(400, 'InvalidObject', `${resource} object is invalid`, [{ code: 'InvalidField', message, resource, field }]);
}

/** The 404 body is presumed (B.5, unconfirmed). */
export function notFound(resource: string, id: number | string): CwSimError {
  return new CwSimError(404, 'NotFound', `${resource} recId ${id} not found`);
}
