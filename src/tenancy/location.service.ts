import { assertFieldLengths, PROPERTY_LIMITS, type FieldLimits } from '../core/field-limits.js';
import type { Selectable } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, locationNotFound, must } from '../core/errors.js';
import { getService, type NamedRef } from '../catalog/catalog.service.js';
import { requirePermission, type Caller } from './caller.js';
import type { LocationPropertyDefinition, LocationsTable } from './schema.js';
import {
  deleteLocationRow,
  insertLocation,
  locationUsage,
  replaceLocationServices,
  selectLocationServices,
  selectLocations,
  updateLocation,
  type LocationRef,
} from './location.queries.js';

export type { LocationRef } from './location.queries.js';

export interface LocationService {
  id: number;
  name: string;
  fullname: string;
}

export interface Location {
  id: number;
  name: string;
  description: string;
  services: LocationService[];
  customerProperties: LocationPropertyDefinition[];
  additionalProperties: LocationPropertyDefinition[];
}

export interface LocationFilter extends LocationRef {
  /** Only locations offering this service (and only it is listed); `{}` lists every service. */
  service?: NamedRef;
}

export interface LocationInput {
  /** Selects an existing location to rename; otherwise the name selects (or creates) it. */
  id?: number;
  name: string;
  description?: string;
  /** Replaces the services offered at the location. */
  services?: NamedRef[];
  customerProperties?: LocationPropertyDefinition[];
  additionalProperties?: LocationPropertyDefinition[];
}

/** The location every user starts in (the seed's identity example shows it). */
export const UNASSIGNED = 'Unassigned';

/**
 * Locations are defined by the service provider and shared by every tenant (Atria's
 * directory locations), so reading them needs no subtree scope; changing them needs "Manage Catalog".
 */
export async function findLocations(db: Executor, _caller: Caller, filter: LocationFilter = {}): Promise<Location[]> {
  const rows = await selectLocations(db, filter).execute();
  const locations = await withServices(db, rows);
  const wanted = filter.service;
  if (!wanted || (wanted.name === undefined && wanted.fullname === undefined && wanted.id === undefined)) return locations;
  const service = await getService(db, wanted);
  return locations.map((l) => ({ ...l, services: l.services.filter((s) => s.id === service.id) })).filter((l) => l.services.length > 0);
}

export async function getLocation(db: Executor, caller: Caller, ref: LocationRef): Promise<Location> {
  if (ref.id === undefined && ref.name === undefined)
    throw new DomainError('LocationNotFound', 'A location must be selected by <name> or <id>.');
  const [location] = await findLocations(db, caller, ref);
  return must(location, () => locationNotFound(ref.name ?? String(ref.id)));
}

async function withServices(db: Executor, rows: Selectable<LocationsTable>[]): Promise<Location[]> {
  const services = rows.length
    ? await selectLocationServices(
        db,
        rows.map((r) => r.id),
      ).execute()
    : [];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    services: services.filter((s) => s.location_id === r.id).map((s) => ({ id: s.id, name: s.code, fullname: s.fullname })),
    customerProperties: r.customer_properties,
    additionalProperties: r.additional_properties,
  }));
}

/** Most characters per location field and per property definition (docs/security.md). */
export const LOCATION_FIELD_LIMITS: FieldLimits = { name: 255, description: 1000 };
const DEFINITION_LIMITS: FieldLimits = { name: PROPERTY_LIMITS.name, displayname: 255, default: PROPERTY_LIMITS.value };

/** Creates the location named in the input, or updates it when it exists. */
export async function setLocation(tx: Tx, caller: Caller, input: LocationInput): Promise<{ location: Location; created: boolean }> {
  requirePermission(caller, 'Manage Catalog');
  assertFieldLengths('LocationError', 'location', input, LOCATION_FIELD_LIMITS);
  const name = input.name.trim();
  if (name === '') throw new DomainError('LocationError', 'A location must have a <name>.');
  const existing = (await selectLocations(tx, input.id !== undefined ? { id: input.id } : { name }).execute())[0];
  if (input.id !== undefined && !existing) throw locationNotFound(String(input.id));
  const clash = (await selectLocations(tx, { name }).execute())[0];
  if (clash && clash.id !== existing?.id) throw new DomainError('LocationError', `A location named '${name}' already exists.`);
  validateDefinitions(input.customerProperties);
  validateDefinitions(input.additionalProperties);
  const columns = {
    name,
    description: input.description,
    customerProperties: input.customerProperties,
    additionalProperties: input.additionalProperties,
  };
  const id = existing ? existing.id : await insertLocation(tx, columns);
  if (existing) await updateLocation(tx, id, columns);
  if (input.services) {
    const ids = await Promise.all(input.services.map(async (s) => (await getService(tx, s)).id));
    await replaceLocationServices(tx, id, [...new Set(ids)]);
  }
  return { location: await getLocation(tx, caller, { id }), created: !existing };
}

function validateDefinitions(defs: LocationPropertyDefinition[] | undefined): void {
  const names = new Set<string>();
  if ((defs?.length ?? 0) > PROPERTY_LIMITS.count) {
    throw new DomainError('InvalidProperty', `A location defines at most ${PROPERTY_LIMITS.count} properties of each kind.`);
  }
  for (const d of defs ?? []) {
    assertFieldLengths('InvalidProperty', 'location property', d, DEFINITION_LIMITS);
    const key = d.name.trim().toLowerCase();
    if (key === '') throw new DomainError('InvalidProperty', 'A location property must have a <name>.');
    if (names.has(key)) throw new DomainError('InvalidProperty', `The property '${d.name}' is listed twice.`);
    names.add(key);
  }
}

/** Deletes a location nobody uses (seed Appendix A, code 27: "can not be deleted as it is in use"). */
export async function deleteLocation(tx: Tx, caller: Caller, ref: LocationRef): Promise<void> {
  requirePermission(caller, 'Manage Catalog');
  const location = await getLocation(tx, caller, ref);
  const usage = await locationUsage(tx, location.id, location.name);
  if (usage.customers > 0 || usage.users > 0) {
    throw new DomainError('LocationError', `The location '${location.name}' can not be deleted as it is in use.`, { ...usage });
  }
  await deleteLocationRow(tx, location.id);
}
