import type { Executor } from '../core/db/database.js';
import type { DriverCustomer, DriverService, DriverTask, DriverUser } from './drivers/driver.js';
import type { EngineRequest } from './engine.queries.js';
import type { RequestSecrets } from './requests.js';
import {
  customerRow,
  customerServiceRow,
  memberNames,
  serviceInstanceRow,
  userRow,
  userServiceRow,
  type DriverTarget,
} from './task.queries.js';

/** What the engine runs for a request's own work: the task, and the drivers it goes to (none = nothing to do, with a reason). */
export interface Work {
  task: DriverTask;
  targets: DriverTarget[];
  skip?: string;
}

export class WorkBuildError extends Error {
  override name = 'WorkBuildError';
}

/** Reads the current state of the request's entity: a re-run always pushes what the database holds now. */
export async function buildWork(db: Executor, r: EngineRequest, attempt: number, secrets: RequestSecrets): Promise<Work> {
  const toEveryTarget = r.entity === 'customer' || r.entity === 'user';
  const customerRecord = must(await customerRow(db, r.customer_id, toEveryTarget), `customer ${r.customer_id}`);
  const customer: DriverCustomer = {
    id: customerRecord.id,
    name: customerRecord.name,
    fullname: customerRecord.fullname,
    primaryDomain: customerRecord.primary_domain,
    enabled: customerRecord.enabled,
    ancestry: customerRecord.ancestry,
  };
  const base = { requestId: r.id, attempt, entity: r.entity, action: r.action, customer, desired: r.desired };
  switch (r.entity) {
    case 'customer': {
      const task: DriverTask = base;
      return { task, targets: distinct(customerRecord.catalogTargets), skip: skipUpdate(r, customerRecord.status) };
    }
    case 'user': {
      const user = await driverUser(db, r.entity_id, secrets);
      return { task: { ...base, user: user.value }, targets: distinct(customerRecord.catalogTargets), skip: skipUpdate(r, user.status) };
    }
    case 'customer_service': {
      const cs = must(await customerServiceRow(db, r.entity_id), `customer service ${r.entity_id}`);
      const service: DriverService = {
        code: cs.code,
        fullname: cs.fullname,
        planName: cs.plan_name,
        userPlanName: null,
        properties: cs.properties,
      };
      const members = r.action === 'provision' || r.action === 'update' ? await memberNames(db, cs.id) : undefined;
      return {
        task: { ...base, service, ...(members ? { members } : {}) },
        targets: [{ driver: cs.driver, config: cs.driver_config }],
        skip: skipUpdate(r, cs.status),
      };
    }
    case 'user_service': {
      const us = must(await userServiceRow(db, r.entity_id), `user service ${r.entity_id}`);
      const user = await driverUser(db, us.user_id, secrets);
      const service: DriverService = {
        code: us.code,
        fullname: us.fullname,
        planName: us.plan_name,
        userPlanName: us.user_plan_name,
        properties: us.properties,
      };
      return {
        task: { ...base, user: user.value, service },
        targets: [{ driver: us.driver, config: us.driver_config }],
        skip: skipUpdate(r, us.status),
      };
    }
    case 'service_instance': {
      const si = must(await serviceInstanceRow(db, r.entity_id), `service instance ${r.entity_id}`);
      const service: DriverService = {
        code: si.code,
        fullname: si.fullname,
        planName: null,
        userPlanName: null,
        properties: { ...si.properties, instance: si.name },
      };
      return { task: { ...base, service }, targets: [{ driver: si.driver, config: si.driver_config }], skip: skipUpdate(r, si.status) };
    }
  }
}

async function driverUser(db: Executor, id: number, secrets: RequestSecrets): Promise<{ value: DriverUser; status: string }> {
  const u = must(await userRow(db, id), `user ${id}`);
  return {
    status: u.status,
    value: {
      id: u.id,
      name: u.name,
      upn: u.upn,
      firstName: u.first_name,
      lastName: u.last_name,
      displayName: u.display_name,
      email: u.upn,
      enabled: u.enabled,
      ...(secrets.password ? { password: secrets.password } : {}),
    },
  };
}

/** An update of a de-provisioned entity changes the database only: pushing it would re-create the entity. */
function skipUpdate(r: EngineRequest, status: string): string | undefined {
  return r.action === 'update' && status === 'NotProvisioned'
    ? `${r.entity.replace('_', ' ')} is not provisioned: nothing to push`
    : undefined;
}

/** Each driver configuration once, in the catalog's order (several services share one). */
function distinct(catalogTargets: DriverTarget[]): DriverTarget[] {
  const seen = new Set<string>();
  return catalogTargets.filter((target) => {
    const key = targetKey(target);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function targetKey(target: DriverTarget): string {
  return `${target.driver}:${JSON.stringify(target.config)}`;
}

function must<T>(row: T | undefined, what: string): T {
  if (row === undefined) throw new WorkBuildError(`${what} no longer exists`);
  return row;
}
