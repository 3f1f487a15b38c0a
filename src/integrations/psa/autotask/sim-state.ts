import { AtSimError, type AtRecord } from './sim-query.js';
import {
  RECURRING_SERVICE_CONTRACT_TYPE,
  type AtCompany,
  type AtContract,
  type AtContractService,
  type AtContractServiceUnit,
  type AtService,
} from './types.js';

/** Entities the simulator serves, with their REST capabilities (psa-wire.md A.3, A.8, A.9). */
export const AT_ENTITIES = {
  Companies: { canCreate: true, canUpdate: true, canQuery: true },
  Contracts: { canCreate: true, canUpdate: true, canQuery: true },
  Services: { canCreate: true, canUpdate: true, canQuery: true },
  // Writes go through /Contracts/{id}/Services only.
  ContractServices: { canCreate: false, canUpdate: false, canQuery: true },
  ContractServiceUnits: { canCreate: false, canUpdate: false, canQuery: true },
  // POST only: cannot be queried, read, updated or deleted.
  ContractServiceAdjustments: { canCreate: true, canUpdate: false, canQuery: false },
} as const;

export type AtEntityName = keyof typeof AT_ENTITIES;

/** A recorded adjustment; the API cannot read these back, tests can. */
export interface AtSimAdjustment {
  id: number;
  contractID: number;
  contractServiceID: number;
  serviceID: number;
  unitChange: number;
  effectiveDate: string;
  adjustedUnitPrice: number | null;
  adjustedUnitCost: number | null;
}

// Defaults double as each entity's known field list, so filters on unknown fields fail as on the real API.
const DEFAULTS: Record<AtEntityName, Record<string, unknown>> = {
  Companies: {
    companyName: '',
    companyNumber: null,
    companyType: 1,
    isActive: true,
    parentCompanyID: null,
    ownerResourceID: null,
    createDate: null,
    userDefinedFields: [],
  },
  Contracts: {
    companyID: 0,
    contractName: '',
    contractNumber: null,
    contractType: RECURRING_SERVICE_CONTRACT_TYPE,
    status: 1,
    startDate: '',
    endDate: '',
    contractCategory: null,
    contractPeriodType: null,
    billingPreference: null,
    description: null,
    isDefaultContract: false,
    userDefinedFields: [],
  },
  Services: {
    name: '',
    description: null,
    invoiceDescription: null,
    unitPrice: 0,
    unitCost: null,
    periodType: 1,
    isActive: true,
    sku: null,
    billingCodeID: null,
    userDefinedFields: [],
  },
  ContractServices: {
    contractID: 0,
    serviceID: 0,
    unitPrice: null,
    unitCost: null,
    adjustedPrice: null,
    internalCurrencyUnitPrice: null,
    internalCurrencyAdjustedPrice: null,
    invoiceDescription: null,
    internalDescription: null,
    quoteItemID: null,
  },
  ContractServiceUnits: {
    contractID: 0,
    contractServiceID: 0,
    serviceID: 0,
    startDate: '',
    endDate: '',
    units: 0,
    price: 0,
    cost: null,
    internalCurrencyPrice: null,
    approveAndPostDate: null,
    organizationalLevelAssociationID: null,
    vendorCompanyID: null,
  },
  ContractServiceAdjustments: {
    contractID: 0,
    contractServiceID: 0,
    serviceID: 0,
    effectiveDate: '',
    unitChange: 0,
    adjustedUnitPrice: null,
    adjustedUnitCost: null,
    quoteItemID: null,
    allowRepeatService: false,
  },
};

/** Only these ContractServices fields are writable on update (A.9, vendor docs). */
const CONTRACT_SERVICE_WRITABLE = ['adjustedPrice', 'invoiceDescription'];

/** In-memory Autotask tenant: tables, ids, and the unit arithmetic of adjustments. */
export class AutotaskSimState {
  readonly #tables = new Map<AtEntityName, Map<number, AtRecord>>((Object.keys(AT_ENTITIES) as AtEntityName[]).map((e) => [e, new Map()]));
  #nextId = 29_680_000;

  /** Known field names of an entity (for filter validation and includeFields). */
  fields(entity: AtEntityName): string[] {
    return ['id', ...Object.keys(DEFAULTS[entity])];
  }

  /** All records of an entity, ordered by id (the API pages in id order). */
  all(entity: AtEntityName): AtRecord[] {
    return [...this.#table(entity).values()].sort((a, b) => a.id - b.id);
  }

  get(entity: AtEntityName, id: number): AtRecord | undefined {
    return this.#table(entity).get(id);
  }

  // ---- seeding (also used by the HTTP create routes) ----------------------------------

  addCompany(input: Partial<AtCompany> & { companyName: string }): AtCompany {
    return this.#insert('Companies', input) as unknown as AtCompany;
  }

  addService(input: Partial<AtService> & { name: string }): AtService {
    return this.#insert('Services', input) as unknown as AtService;
  }

  addContract(input: Partial<AtContract> & { companyID: number; contractName: string; startDate: string; endDate: string }): AtContract {
    if (!this.get('Companies', input.companyID)) throw new AtSimError(500, `Company ${input.companyID} does not exist.`);
    if (dateOf(input.endDate) < dateOf(input.startDate))
      throw new AtSimError(500, 'The contract end date must be on or after its start date.');
    return this.#insert('Contracts', {
      ...input,
      startDate: dateTime(input.startDate),
      endDate: dateTime(input.endDate),
    }) as unknown as AtContract;
  }

  /** Adds a service line with no units; only Recurring Service contracts (type 7) take services (A.9). */
  addContractService(input: Partial<AtContractService> & { contractID: number; serviceID: number }): AtContractService {
    const contract = this.#contract(input.contractID);
    const service = this.get('Services', input.serviceID);
    if (!service) throw new AtSimError(500, `Service ${input.serviceID} does not exist.`);
    if (contract.contractType !== RECURRING_SERVICE_CONTRACT_TYPE) {
      throw new AtSimError(500, 'Contract services can only be added to Recurring Service contracts.');
    }
    // A service may repeat on a contract as a separate line the invoice tells apart by its own
    // description (the adjustment model's allowRepeatService, A.9); whether Autotask demands that is
    // unconfirmed: the simulator refuses a repeat without a description of its own, or with one
    // another line of the service already has.
    const same = this.all('ContractServices').filter((l) => l.contractID === input.contractID && l.serviceID === input.serviceID);
    const description = input.invoiceDescription?.trim().toLowerCase();
    if (
      same.length &&
      (!description ||
        same.some(
          (l) =>
            String(l.invoiceDescription ?? '')
              .trim()
              .toLowerCase() === description,
        ))
    ) {
      throw new AtSimError(500, `Service ${input.serviceID} is already on contract ${input.contractID}.`);
    }
    // "Use standard invoice description": the service's description is returned (A.9).
    const line = this.#insert('ContractServices', {
      unitPrice: service.unitPrice as number,
      unitCost: service.unitCost as number | null,
      invoiceDescription: (service.invoiceDescription as string | null) ?? (service.description as string | null),
      ...input,
    });
    for (const period of monthlyPeriods(contract.startDate, contract.endDate)) {
      this.#insert('ContractServiceUnits', {
        contractID: contract.id,
        contractServiceID: line.id,
        serviceID: input.serviceID,
        startDate: period.start,
        endDate: period.end,
        units: 0,
        price: line.unitPrice,
        cost: line.unitCost,
      });
    }
    return line as unknown as AtContractService;
  }

  /** Sparse update of a contract service: only adjustedPrice and invoiceDescription may change (A.9). */
  updateContractService(contractId: number, patch: Record<string, unknown>): AtRecord {
    const line = this.get('ContractServices', Number(patch.id));
    if (!line || line.contractID !== contractId)
      throw new AtSimError(500, `ContractService ${String(patch.id)} is not on contract ${contractId}.`);
    const readOnly = Object.keys(patch).filter((k) => k !== 'id' && !CONTRACT_SERVICE_WRITABLE.includes(k) && patch[k] !== line[k]);
    if (readOnly.length > 0) throw new AtSimError(500, `Fields are read-only on update: ${readOnly.join(', ')}.`);
    Object.assign(line, patch);
    return line;
  }

  /** Sparse update of a root entity (PATCH with the id in the body, A.3). */
  update(entity: 'Companies' | 'Contracts' | 'Services', patch: Record<string, unknown>): AtRecord {
    const record = this.get(entity, Number(patch.id));
    if (!record) throw new AtSimError(500, `${entity} ${String(patch.id)} does not exist.`);
    const unknown = Object.keys(patch).filter((k) => !this.fields(entity).includes(k));
    if (unknown.length > 0) throw new AtSimError(500, `Unknown fields: ${unknown.join(', ')}.`);
    Object.assign(record, patch);
    return record;
  }

  findContractService(contractId: number, serviceId: number): AtContractService | undefined {
    return this.all('ContractServices').find((l) => l.contractID === contractId && l.serviceID === serviceId) as unknown as
      AtContractService | undefined;
  }

  /**
   * Applies a ContractServiceAdjustment (A.9): creates the contract service when missing,
   * then changes units from `effectiveDate` on. A unit period that straddles the date is
   * split so the day before keeps the old count (the simulator's model of proration).
   * Refuses a change that would make any period negative (the real rule is unconfirmed).
   */
  applyAdjustment(input: {
    contractID: number;
    serviceID: number;
    contractServiceID?: number;
    unitChange: number;
    effectiveDate: string;
    adjustedUnitPrice?: number | null;
    adjustedUnitCost?: number | null;
  }): AtSimAdjustment {
    const contract = this.#contract(input.contractID);
    if (!Number.isInteger(input.unitChange)) throw new AtSimError(500, 'unitChange must be an integer.');
    const day = dateOf(input.effectiveDate);
    if (day < dateOf(contract.startDate) || day > dateOf(contract.endDate)) {
      throw new AtSimError(500, 'The effective date must fall within the contract start and end dates.');
    }
    const line = this.#lineForAdjustment(input);
    const periods = this.#unitsOf(line.id).filter((u) => dateOf(u.endDate) >= day);
    if (periods.some((u) => u.units + input.unitChange < 0)) {
      throw new AtSimError(500, 'The adjustment would reduce the number of units below zero.');
    }
    for (const period of periods) this.#adjustPeriod(period, day, input.unitChange);
    return this.#insert('ContractServiceAdjustments', {
      contractID: contract.id,
      contractServiceID: line.id,
      serviceID: line.serviceID,
      unitChange: input.unitChange,
      effectiveDate: dateTime(day),
      adjustedUnitPrice: input.adjustedUnitPrice ?? null,
      adjustedUnitCost: input.adjustedUnitCost ?? null,
    }) as unknown as AtSimAdjustment;
  }

  /** Units in force on `day` for a contract service; 0 when no period covers it. */
  unitsOn(contractServiceId: number, day: string): number {
    const d = dateOf(day);
    return this.#unitsOf(contractServiceId).find((u) => dateOf(u.startDate) <= d && dateOf(u.endDate) >= d)?.units ?? 0;
  }

  /** Units in force on `day` (default today) for a service on a contract; 0 when the line is missing. */
  unitsFor(contractId: number, serviceId: number, day: string = new Date().toISOString()): number {
    const line = this.findContractService(contractId, serviceId);
    return line ? this.unitsOn(line.id, day) : 0;
  }

  adjustments(): AtSimAdjustment[] {
    return this.all('ContractServiceAdjustments') as unknown as AtSimAdjustment[];
  }

  // ---- internals ---------------------------------------------------------------------

  #lineForAdjustment(input: { contractID: number; serviceID: number; contractServiceID?: number }): AtContractService {
    if (input.contractServiceID) {
      const line = this.get('ContractServices', input.contractServiceID);
      if (!line || line.contractID !== input.contractID) {
        throw new AtSimError(500, `ContractService ${input.contractServiceID} is not on contract ${input.contractID}.`);
      }
      return line as unknown as AtContractService;
    }
    // An adjustment can be created when the contract service is missing; the API creates it (A.9).
    return (
      this.findContractService(input.contractID, input.serviceID) ??
      this.addContractService({ contractID: input.contractID, serviceID: input.serviceID })
    );
  }

  #adjustPeriod(period: AtContractServiceUnit, day: string, change: number): void {
    const record = period as unknown as AtRecord;
    if (dateOf(period.startDate) >= day) {
      record.units = period.units + change;
      return;
    }
    this.#insert('ContractServiceUnits', { ...period, id: undefined, startDate: dateTime(day), units: period.units + change });
    record.endDate = dateTime(addDays(day, -1));
  }

  #unitsOf(contractServiceId: number): AtContractServiceUnit[] {
    return (this.all('ContractServiceUnits') as unknown as AtContractServiceUnit[])
      .filter((u) => u.contractServiceID === contractServiceId)
      .sort((a, b) => a.startDate.localeCompare(b.startDate));
  }

  #contract(id: number): AtContract {
    const contract = this.get('Contracts', id);
    if (!contract) throw new AtSimError(500, `Contract ${id} does not exist.`);
    return contract as unknown as AtContract;
  }

  #insert(entity: AtEntityName, input: Record<string, unknown>): AtRecord {
    const { id: _ignored, ...rest } = input;
    const record: AtRecord = { ...structuredClone(DEFAULTS[entity]), ...rest, id: this.#nextId++ };
    this.#table(entity).set(record.id, record);
    return record;
  }

  #table(entity: AtEntityName): Map<number, AtRecord> {
    const table = this.#tables.get(entity);
    if (!table) throw new Error(`unknown entity ${entity}`);
    return table;
  }
}

/** `yyyy-mm-dd` of an Autotask datetime. */
export function dateOf(value: string): string {
  return value.slice(0, 10);
}

function dateTime(value: string): string {
  return `${dateOf(value)}T00:00:00`;
}

function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * One unit period per calendar month between the contract dates. That the API keeps one
 * ContractServiceUnits record per billing period is client-observed (A.9); monthly is the simulator's choice.
 */
function monthlyPeriods(start: string, end: string): { start: string; end: string }[] {
  const periods: { start: string; end: string }[] = [];
  let cursor = dateOf(start);
  const last = dateOf(end);
  while (cursor <= last) {
    const d = new Date(`${cursor}T00:00:00Z`);
    const monthEnd = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
    const periodEnd = monthEnd < last ? monthEnd : last;
    periods.push({ start: dateTime(cursor), end: dateTime(periodEnd) });
    cursor = addDays(periodEnd, 1);
  }
  return periods;
}
