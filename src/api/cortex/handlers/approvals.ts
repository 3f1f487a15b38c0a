import { DomainError } from '../../../core/errors.js';
import {
  approvalProvidersOf,
  setApprovalProviders,
  SUBSCRIPTION_TARGETS,
  type ApprovalProviderInput,
  type ApprovalProviderView,
  type GroupInput,
  type Subscription,
} from '../../../approvals/approval-settings.service.js';
import { answerApproval, approvalsOf, getApproval, type ApprovalView, type Person } from '../../../approvals/approval-response.service.js';
import type { SubscriptionTarget } from '../../../approvals/schema.js';
import type { Customer } from '../../../tenancy/customer.service.js';
import type { User } from '../../../tenancy/user.service.js';
import { el, type OutNode } from '../serialize.js';
import { child, children, textOf, type XmlNode } from '../xml.js';
import type { EntityHandlers, ReadContext, WriteContext } from './types.js';

const SERVICE_TARGETS: SubscriptionTarget[] = ['services', 'userservices'];

/** The seed's dates: yyyyMMdd. */
const day = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10).replace(/-/g, '') : null);

function subscriptionsToWire(subs: Subscription[]): OutNode {
  const out: OutNode[] = [];
  for (const target of SUBSCRIPTION_TARGETS) {
    const mine = subs.filter((s) => s.target === target);
    if (!mine.length) continue;
    const sub = (s: Subscription) => el('subscription', [el('name', s.event), el('access', s.access)]);
    if (!SERVICE_TARGETS.includes(target)) {
      out.push(el(target, mine.map(sub)));
      continue;
    }
    const labels = [...new Set(mine.map((s) => s.service!))];
    out.push(
      el(
        target,
        labels.map((label) => el('service', [el('label', label), ...mine.filter((s) => s.service === label).map(sub)])),
      ),
    );
  }
  return el('subscriptions', out);
}

const configurationToWire = (c: Record<string, string>): OutNode =>
  el(
    'configuration',
    Object.entries(c).map(([k, v]) => el(k, v)),
  );

function providerToWire(p: ApprovalProviderView): OutNode {
  const out: OutNode[] = [
    el('name', p.name),
    el('description', p.description),
    configurationToWire(p.configuration),
    subscriptionsToWire(p.subscriptions),
  ];
  if (p.groups) {
    out.push(
      el(
        'groups',
        p.groups.map((g) =>
          el('group', [
            el('name', g.name),
            el('description', g.description),
            configurationToWire(g.configuration),
            el(
              'members',
              g.members.map((m) => el('member', [el('displayname', m.displayName), el('username', m.name)])),
            ),
            subscriptionsToWire(g.subscriptions),
          ]),
        ),
      ),
    );
  }
  return el('approvalprovider', out);
}

function subscriptionsOf(node: XmlNode | undefined): Subscription[] {
  if (!node) return [];
  const out: Subscription[] = [];
  const sub = (target: SubscriptionTarget, s: XmlNode, service?: string): Subscription => ({
    target,
    ...(service !== undefined ? { service } : {}),
    event: (textOf(s, 'name') ?? '') as Subscription['event'],
    access: (textOf(s, 'access') ?? '') as Subscription['access'],
  });
  for (const target of SUBSCRIPTION_TARGETS) {
    for (const t of children(node, target)) {
      if (!SERVICE_TARGETS.includes(target)) out.push(...children(t, 'subscription').map((s) => sub(target, s)));
      else
        for (const svc of children(t, 'service'))
          out.push(...children(svc, 'subscription').map((s) => sub(target, s, textOf(svc, 'label') ?? '')));
    }
  }
  return out;
}

function configurationOf(node: XmlNode | undefined): Record<string, string> | undefined {
  return node ? Object.fromEntries(node.children.map((c) => [c.tag, c.text])) : undefined;
}

function groupOf(node: XmlNode): GroupInput {
  const members = child(node, 'members');
  const configuration = configurationOf(child(node, 'configuration'));
  const description = textOf(node, 'description');
  return {
    name: textOf(node, 'name') ?? '',
    ...(textOf(node, 'action')?.toLowerCase() === 'delete' ? { delete: true } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(configuration ? { configuration } : {}),
    // seed: only <username> identifies a member; <displayname> is ignored.
    ...(members ? { members: children(members, 'member').map((m) => textOf(m, 'username') ?? '') } : {}),
    subscriptions: subscriptionsOf(child(node, 'subscriptions')),
  };
}

function providerOf(node: XmlNode): ApprovalProviderInput {
  const groups = child(node, 'groups');
  const configuration = configurationOf(child(node, 'configuration'));
  return {
    name: textOf(node, 'name') ?? '',
    ...(configuration ? { configuration } : {}),
    subscriptions: subscriptionsOf(child(node, 'subscriptions')),
    ...(groups ? { groups: children(groups, 'group').map(groupOf) } : {}),
  };
}

const person = (tag: string, p: Person): OutNode => el(tag, [el('name', p.name), el('fullname', p.fullname), el('email', p.email)]);

function approvalBody(a: ApprovalView): OutNode[] {
  return [
    el('description', a.description),
    el('status', a.status),
    el('requestdate', day(a.requestDate)),
    el('resolveddate', day(a.resolvedDate)),
    el('customer', [el('name', a.customer.name), el('fullname', a.customer.fullname)]),
    ...(a.requestedBy ? [person('requestedbyuser', a.requestedBy)] : [el('requestedbyuser')]),
    ...a.subscriptions.map((s) =>
      el('subscription', [
        el('id', s.id),
        el('requestdate', day(s.requestDate)),
        el('resolveddate', day(s.resolvedDate)),
        el('status', s.status),
        el('reason', s.reason),
        person('user', s.user),
      ]),
    ),
  ];
}

const approvalsToWire = (list: ApprovalView[]): OutNode =>
  el(
    'approvalresponses',
    list.map((a) => el('approvalresponse', approvalBody(a))),
  );

const wantsAll = (node: XmlNode): boolean => node.attrs.filter?.toLowerCase() === 'all';

/** GET extras of a <customer>: <approvalproviders/> and <approvalresponses/>. */
export async function approvalCustomerGet(cx: ReadContext, customer: Customer, node: XmlNode): Promise<OutNode[]> {
  const out: OutNode[] = [];
  if (child(node, 'approvalproviders'))
    out.push(el('approvalproviders', (await approvalProvidersOf(cx.db, cx.caller, customer)).map(providerToWire)));
  const responses = child(node, 'approvalresponses');
  if (responses) out.push(approvalsToWire(await approvalsOf(cx.db, cx.caller, customer, { all: wantsAll(responses) })));
  return out;
}

/** GET extra of a <user>: the approvals it is asked for. */
export async function approvalUserGet(cx: ReadContext, customer: Customer, user: User, node: XmlNode): Promise<OutNode[]> {
  const responses = child(node, 'approvalresponses');
  return responses ? [approvalsToWire(await approvalsOf(cx.db, cx.caller, customer, { user, all: wantsAll(responses) }))] : [];
}

async function answerAll(cx: WriteContext, customer: Customer, node: XmlNode, user?: User): Promise<void> {
  for (const response of children(node, 'approvalresponse')) {
    for (const s of children(response, 'subscription')) {
      const reason = textOf(s, 'reason');
      const held = await answerApproval(
        cx.tx,
        cx.caller,
        customer,
        { id: textOf(s, 'id') ?? '', status: textOf(s, 'status') ?? '', ...(reason ? { reason } : {}) },
        user,
      );
      // The answer's <request><id> is the request the approval held: the one a script then follows.
      cx.outcome.requestId ??= held;
    }
  }
}

/** SET extras of a <customer>: approval provider settings and answers to approvals. */
export async function approvalCustomerSet(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  const providers = child(node, 'approvalproviders');
  if (providers) await setApprovalProviders(cx.tx, cx.caller, customer, children(providers, 'approvalprovider').map(providerOf));
  const responses = child(node, 'approvalresponses');
  if (responses) await answerAll(cx, customer, responses);
}

/** SET extra of a <user>: answers to the approvals it is asked for. */
export async function approvalUserSet(cx: WriteContext, customer: Customer, user: User, node: XmlNode): Promise<void> {
  const responses = child(node, 'approvalresponses');
  if (responses) await answerAll(cx, customer, responses, user);
}

/** Seed: "Get Approval Request Information" by subscription id. */
export const approvalHandlers: EntityHandlers = {
  GET: async (node, cx) => {
    const id = textOf(node, 'id');
    if (!id) throw new DomainError('InvalidReference', 'An approval is selected by its subscription <id>.');
    const a = await getApproval(cx.db, cx.caller, id);
    return [el('approval', [el('id', id), ...approvalBody(a), el('request', [el('id', a.provisioningRequestId)])])];
  },
};
