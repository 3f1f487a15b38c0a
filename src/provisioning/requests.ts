import { sql } from 'kysely';
import type { Tx } from '../core/db/database.js';
import type { SecretBox } from '../core/crypto.js';
import type { Caller } from '../tenancy/caller.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { RequestAction, RequestEntity } from './schema.js';
import { dependencyKeys, entityKey, setEntityStatus } from './entity-status.queries.js';
import { wakeRequest } from './request-queue.js';

/** One-time secrets a driver needs for this request only (sealed at rest, erased when the request ends). */
export interface RequestSecrets {
  /** A new plaintext password for the user (LDAP sets it; the database keeps only a hash). */
  password?: string;
}

export interface NewRequest {
  entity: RequestEntity;
  entityId: number;
  customerId: number;
  action: RequestAction;
  desired?: Record<string, unknown>;
  parentId?: number;
  /** Order among siblings (dependency order): children with a lower sequence finish first. */
  sequence?: number;
  /** Pending when something (a parent, an approval) holds it. */
  status?: Extract<ProvisioningStatus, 'Requested' | 'Pending'>;
  secrets?: RequestSecrets;
}

let secretBox: SecretBox | undefined;

/** The process's SecretBox, used to seal request secrets (set once by the runtime). */
export function useRequestSecretBox(box: SecretBox): void {
  secretBox = box;
}

/** Requests with `desired.batch` only group their children: they have no driver work or entity of their own. */
export function isBatch(desired: Record<string, unknown>): boolean {
  return desired.batch === true;
}

/**
 * Records a provisioning request in the caller's transaction, so a request exists
 * if and only if the change it carries was committed. A runnable top-level request is woken in
 * the same insert (its row is its job); children wait for their parent to release them, and the
 * requests of a group for the group's parent.
 */
export async function createRequest(tx: Tx, caller: Caller, spec: NewRequest): Promise<number> {
  const status = spec.status ?? (spec.parentId === undefined ? 'Requested' : 'Pending');
  const desired = spec.desired ?? {};
  const group = spec.parentId === undefined ? groups.get(tx) : undefined;
  const rootId =
    spec.parentId === undefined
      ? null
      : (await tx.selectFrom('provisioning_requests').select('root_id').where('id', '=', spec.parentId).executeTakeFirstOrThrow()).root_id;
  const row = await tx
    .insertInto('provisioning_requests')
    .values({
      parent_id: spec.parentId ?? null,
      root_id: rootId,
      entity: spec.entity,
      entity_id: spec.entityId,
      entity_key: entityKey(spec.entity, spec.entityId),
      dep_keys: await dependencyKeys(tx, spec.entity, spec.entityId, spec.customerId),
      customer_id: spec.customerId,
      action: spec.action,
      desired: JSON.stringify(desired),
      requested_by_user_id: caller.userId,
      requested_by: caller.userName,
      status,
      sequence: spec.sequence ?? 0,
      secret: sealSecrets(spec.secrets),
      // An approval hold below turns it Pending, which no worker claims until it is released.
      wake_at: status === 'Requested' && spec.parentId === undefined && !group ? sql<Date>`now()` : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (rootId === null) await tx.updateTable('provisioning_requests').set({ root_id: row.id }).where('id', '=', row.id).execute();
  if (!isBatch(desired)) await setEntityStatus(tx, spec.entity, spec.entityId, status, { action: spec.action });
  if (status === 'Requested' && spec.parentId === undefined && !isBatch(desired) && approvalHold !== undefined) {
    await approvalHold(tx, row.id);
  }
  if (group) group.push(row.id);
  return row.id;
}

/**
 * Records a request that is complete when it is created: a SET that changed nothing to provision
 * still answers with a request id (Atria scripts read `/response/request/id` after every SET),
 * but there is no driver work, no entity status change and nothing is queued.
 */
export async function recordCompletedRequest(tx: Tx, caller: Caller, customerId: number, message: string): Promise<number> {
  const now = new Date();
  const key = entityKey('customer', customerId);
  const row = await tx
    .insertInto('provisioning_requests')
    .values({
      entity: 'customer',
      entity_id: customerId,
      entity_key: key,
      dep_keys: [key],
      customer_id: customerId,
      action: 'update',
      desired: JSON.stringify({ noChange: true }),
      requested_by_user_id: caller.userId,
      requested_by: caller.userName,
      status: 'Provisioned',
      own_done: true,
      started_at: now,
      finished_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx.updateTable('provisioning_requests').set({ root_id: row.id }).where('id', '=', row.id).execute();
  await tx.insertInto('request_log').values({ request_id: row.id, at: now, level: 'info', message }).execute();
  return row.id;
}

type ApprovalHold = (tx: Tx, requestId: number) => Promise<boolean>;
let approvalHold: ApprovalHold | undefined;

/**
 * The approvals module registers here (provisioning does not depend on it): a new top-level
 * request it holds is left Pending, not queued, until `releaseRequest`.
 */
export function onApprovalHold(hook: ApprovalHold | undefined): void {
  approvalHold = hook;
}

function sealSecrets(secrets: RequestSecrets | undefined): string | null {
  if (!secrets || Object.values(secrets).every((v) => v === undefined)) return null;
  // Without a box (a bare script) the secret is not kept: the driver then leaves passwords alone.
  return secretBox ? secretBox.seal(JSON.stringify(secrets)) : null;
}

/** Opens a request's sealed secrets (engine side). */
export function openSecrets(sealed: string | null): RequestSecrets {
  if (!sealed || !secretBox) return {};
  return JSON.parse(secretBox.open(sealed)) as RequestSecrets;
}

/** Hands a held top-level request (e.g. after an approval) to the workers. */
export async function releaseRequest(tx: Tx, requestId: number): Promise<void> {
  const row = await tx
    .updateTable('provisioning_requests')
    .set({ status: 'Requested', wake_at: sql<Date>`now()` })
    .where('id', '=', requestId)
    .where('status', '=', 'Pending')
    .where('parent_id', 'is', null)
    .returning(['entity', 'entity_id', 'action'])
    .executeTakeFirst();
  if (!row) return;
  await setEntityStatus(tx, row.entity, row.entity_id, 'Requested', { action: row.action });
}

const groups = new WeakMap<Tx, number[]>();

/**
 * Runs `fn` and gathers the top-level requests it creates in `tx`. One API call that changes
 * several entities answers with one request id: a single request is returned as it is;
 * several become children (in creation order) of one parent — a batch (`desired.batch`) that runs
 * them one after another — and only the parent is woken. Returns undefined when nothing changed.
 */
export async function groupRequests<T>(
  tx: Tx,
  caller: Caller,
  fn: () => Promise<T>,
): Promise<{ result: T; requestId: number | undefined }> {
  if (groups.has(tx)) throw new Error('groupRequests does not nest');
  const ids: number[] = [];
  groups.set(tx, ids);
  let result: T;
  try {
    result = await fn();
  } finally {
    groups.delete(tx);
  }
  if (ids.length === 0) return { result, requestId: undefined };
  if (ids.length === 1) {
    const only = await tx.selectFrom('provisioning_requests').select('status').where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    if (only.status === 'Requested') await wakeRequest(tx, ids[0]!);
    return { result, requestId: ids[0] };
  }
  const first = await tx
    .selectFrom('provisioning_requests')
    .select(['entity', 'entity_id', 'customer_id'])
    .where('id', '=', ids[0]!)
    .executeTakeFirstOrThrow();
  const parentId = await createRequest(tx, caller, {
    entity: first.entity,
    entityId: first.entity_id,
    customerId: first.customer_id,
    action: 'update',
    desired: { batch: true, children: ids.length },
  });
  // Held by the batch, which releases them one after another.
  for (const [i, id] of ids.entries()) {
    await tx
      .updateTable('provisioning_requests')
      .set({ parent_id: parentId, sequence: i, status: sql`case when status = 'Requested' then 'Pending' else status end` })
      .where('id', '=', id)
      .execute();
  }
  // The grouped trees now belong to the batch's tree.
  await tx.updateTable('provisioning_requests').set({ root_id: parentId }).where('root_id', 'in', ids).execute();
  return { result, requestId: parentId };
}
