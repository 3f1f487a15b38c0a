import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import { findService } from '../catalog/catalog.service.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import { findUser, fullnameOf } from '../tenancy/user.service.js';
import {
  selectGroupMembers,
  selectGroups,
  selectProviders,
  selectSettings,
  selectSubscriptions,
  deleteSubscription,
  upsertSettings,
  upsertSubscription,
  type SubscriptionKey,
} from './approval.queries.js';
import { WORKFLOW_GROUPS, type SubscriptionAccess, type SubscriptionEvent, type SubscriptionTarget } from './schema.js';

export const SUBSCRIPTION_TARGETS: readonly SubscriptionTarget[] = ['customers', 'users', 'services', 'userservices'];
/** The label that subscribes to every service (seed: <label>All</label>). */
export const ALL_SERVICES = 'All';

export interface Subscription {
  target: SubscriptionTarget;
  /** Service label (its full name) for service targets; "All" for every service. */
  service?: string;
  event: SubscriptionEvent;
  access: SubscriptionAccess;
}

/** A subscription to set, or (delete) to remove; access is then not needed. */
export interface SubscriptionChange extends Omit<Subscription, 'access'> {
  access?: SubscriptionAccess;
  delete?: boolean;
}

export interface ApprovalGroupView {
  name: string;
  description: string;
  configuration: Record<string, string>;
  members: { name: string; displayName: string }[];
  subscriptions: Subscription[];
}

export interface ApprovalProviderView {
  name: string;
  description: string;
  configuration: Record<string, string>;
  subscriptions: Subscription[];
  /** Workflow Groups only. */
  groups?: ApprovalGroupView[];
}

export interface GroupInput {
  name: string;
  description?: string;
  configuration?: Record<string, string>;
  /** The full member list (user names); undefined leaves membership unchanged. */
  members?: string[];
  subscriptions?: SubscriptionChange[];
  delete?: boolean;
}

export interface ApprovalProviderInput {
  name: string;
  configuration?: Record<string, string>;
  subscriptions?: SubscriptionChange[];
  groups?: GroupInput[];
}

/** Managing approvals is changing the customer (the seed: the "Update" role permission). */
function requireManage(caller: Caller): void {
  requirePermission(caller, 'Manage Users');
}

/** The enabled providers with the customer's configuration, subscriptions and groups. */
export async function approvalProvidersOf(db: Executor, caller: Caller, customer: Customer): Promise<ApprovalProviderView[]> {
  requireManage(caller);
  const providers = await selectProviders(db).execute();
  const settings = await selectSettings(db, customer.id).execute();
  const subscriptions = await selectSubscriptions(db, customer.id).execute();
  const groups = await selectGroups(db, customer.id).execute();
  const members = groups.length
    ? await selectGroupMembers(
        db,
        groups.map((g) => g.id),
      ).execute()
    : [];
  const toSub = (s: (typeof subscriptions)[number]): Subscription => ({
    target: s.target,
    ...(s.target === 'services' || s.target === 'userservices' ? { service: s.service_label ?? ALL_SERVICES } : {}),
    event: s.event,
    access: s.access,
  });
  return providers.map((p) => {
    const view: ApprovalProviderView = {
      name: p.name,
      description: p.description,
      configuration: settings.find((s) => s.provider_id === p.id)?.configuration ?? {},
      subscriptions: subscriptions.filter((s) => s.provider_id === p.id && s.group_id === null).map(toSub),
    };
    if (p.name !== WORKFLOW_GROUPS) return view;
    view.groups = groups
      .filter((g) => g.provider_id === p.id)
      .map((g) => ({
        name: g.name,
        description: g.description,
        configuration: g.configuration,
        members: members
          .filter((m) => m.group_id === g.id)
          .map((m) => ({
            name: m.name,
            displayName: fullnameOf({ displayName: m.display_name, firstName: m.first_name, lastName: m.last_name, name: m.name }),
          })),
        subscriptions: subscriptions.filter((s) => s.group_id === g.id).map(toSub),
      }));
    return view;
  });
}

/**
 * Applies the providers named in the input; providers, settings, subscriptions and groups that
 * are not mentioned are left as they are (seed: "Only approval providers that are specified will be managed").
 * A subscription's error names its field by its place in the input (providers.0.subscriptions.2.service).
 */
export async function setApprovalProviders(tx: Tx, caller: Caller, customer: Customer, inputs: ApprovalProviderInput[]): Promise<void> {
  requireManage(caller);
  const providers = await selectProviders(tx).execute();
  for (const [i, input] of inputs.entries()) {
    const provider = must(
      providers.find((p) => p.name.toLowerCase() === input.name.trim().toLowerCase()),
      () => new DomainError('InvalidProperty', `Approval provider '${input.name}' does not exist or is not enabled.`),
    );
    if (input.configuration) {
      const current = (await selectSettings(tx, customer.id).execute()).find((s) => s.provider_id === provider.id)?.configuration ?? {};
      await upsertSettings(tx, customer.id, provider.id, { ...current, ...validConfiguration(input.configuration) });
    }
    const at = { customerId: customer.id, providerId: provider.id, groupId: null };
    for (const [j, s] of (input.subscriptions ?? []).entries()) await applySubscription(tx, at, s, `providers.${i}.subscriptions.${j}`);
    if (input.groups && provider.name !== WORKFLOW_GROUPS)
      throw new DomainError('InvalidProperty', `Approval provider '${provider.name}' has no groups.`);
    for (const [k, g] of (input.groups ?? []).entries())
      await applyGroup(tx, caller, customer, provider.id, g, `providers.${i}.groups.${k}`);
  }
}

function validConfiguration(configuration: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(configuration)) {
    if (!/^\d{1,6}$/.test(value.trim()))
      throw new DomainError('InvalidInteger', `The approval setting <${key}> must be a whole number, got '${value}'.`);
  }
  return Object.fromEntries(Object.entries(configuration).map(([k, v]) => [k, v.trim()]));
}

type SubscriptionOwner = Pick<SubscriptionKey, 'customerId' | 'providerId' | 'groupId'>;

/** Sets (or removes) one subscription; `field` is where it sits in the input, for the error's field. */
async function applySubscription(tx: Tx, owner: SubscriptionOwner, s: SubscriptionChange, field: string): Promise<void> {
  if (!SUBSCRIPTION_TARGETS.includes(s.target))
    throw new DomainError('InvalidProperty', `Unknown subscription type '${s.target}'.`, { field: `${field}.target` });
  const event = (['Provision', 'Deprovision'] as const).find((e) => e.toLowerCase() === String(s.event).toLowerCase());
  if (!event)
    throw new DomainError('InvalidProperty', `Unknown subscription '${s.event}': use Provision or Deprovision.`, {
      field: `${field}.event`,
    });
  const serviceId = s.target === 'services' || s.target === 'userservices' ? await serviceIdOf(tx, s.service, `${field}.service`) : null;
  const key = { ...owner, target: s.target, serviceId, event };
  if (s.delete) return deleteSubscription(tx, key);
  const access = (['None', 'Object'] as const).find((a) => a.toLowerCase() === String(s.access).toLowerCase());
  if (!access) throw new DomainError('InvalidProperty', `Unknown access '${s.access}': use None or Object.`, { field: `${field}.access` });
  await upsertSubscription(tx, key, access);
}

async function serviceIdOf(db: Executor, label: string | undefined, field: string): Promise<number | null> {
  if (label === undefined || label.trim() === '' || label.trim().toLowerCase() === ALL_SERVICES.toLowerCase()) return null;
  const service = (await findService(db, { fullname: label.trim() })) ?? (await findService(db, { name: label.trim() }));
  return must(service, () => new DomainError('ServiceNotFound', `Service '${label}' not found.`, { field })).id;
}

async function applyGroup(tx: Tx, caller: Caller, customer: Customer, providerId: number, g: GroupInput, field: string): Promise<void> {
  const name = g.name.trim();
  if (name === '') throw new DomainError('InvalidProperty', 'An approval group must have a <name>.');
  const existing = (await selectGroups(tx, customer.id).execute()).find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (g.delete) {
    if (!existing) throw new DomainError('InvalidReference', `Approval group '${name}' not found.`);
    await tx.deleteFrom('approval_groups').where('id', '=', existing.id).execute();
    return;
  }
  const configuration = JSON.stringify({ ...(existing?.configuration ?? {}), ...validConfiguration(g.configuration ?? {}) });
  const id = existing
    ? existing.id
    : (
        await tx
          .insertInto('approval_groups')
          .values({ customer_id: customer.id, provider_id: providerId, name, description: g.description ?? '', configuration })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
  if (existing)
    await tx
      .updateTable('approval_groups')
      .set({ description: g.description ?? existing.description, configuration })
      .where('id', '=', id)
      .execute();
  if (g.members) await replaceMembers(tx, caller, customer, id, g.members);
  const owner = { customerId: customer.id, providerId, groupId: id };
  for (const [j, s] of (g.subscriptions ?? []).entries()) await applySubscription(tx, owner, s, `${field}.subscriptions.${j}`);
}

/** Members are users of the customer; a de-provisioned user cannot approve (seed). */
async function replaceMembers(tx: Tx, caller: Caller, customer: Customer, groupId: number, names: string[]): Promise<void> {
  const ids: number[] = [];
  for (const name of names) {
    const user = must(await findUser(tx, caller, customer, { name }), () => new DomainError('UserNotFound', `User '${name}' not found.`));
    if (user.status === 'NotProvisioned')
      throw new DomainError('InvalidUser', `User '${user.name}' is de-provisioned and cannot be a member of an approval group.`);
    ids.push(user.id);
  }
  await tx.deleteFrom('approval_group_members').where('group_id', '=', groupId).execute();
  const unique = [...new Set(ids)];
  if (unique.length)
    await tx
      .insertInto('approval_group_members')
      .values(unique.map((user_id) => ({ group_id: groupId, user_id })))
      .execute();
}
