import type { Customer } from '../../../tenancy/customer.service.js';
import type { User } from '../../../tenancy/user.service.js';
import {
  distributionGroupsOf,
  distributionGroupsOfUser,
  setDistributionGroups,
  setUserDistributionGroups,
  type DistributionGroup,
  type GroupInput,
  type GroupQuery,
  type ListChange,
  type ListEntry,
} from '../../../services/exchange/distribution-group.service.js';
import { CONTACT_DETAILS, contactsOf, setContacts, type Contact, type ContactInput } from '../../../services/exchange/contact.service.js';
import type { RecipientRef } from '../../../services/exchange/recipients.js';
import type { GroupList } from '../../../services/exchange/schema.js';
import { el, type OutNode } from '../serialize.js';
import { boolOf, child, children, intOf, textOf, type XmlNode } from '../xml.js';
import type { ReadContext, WriteContext } from './types.js';

/** The seed's tag pairs for each list of a group. */
const LIST_TAGS: Record<Exclude<GroupList, 'owner'>, [string, string]> = {
  member: ['members', 'member'],
  sendas: ['sendasmembers', 'sendasmember'],
  accepted: ['sendrestrictionacceptedmembers', 'sendrestrictionacceptedmember'],
  rejected: ['sendrestrictionrejectedmembers', 'sendrestrictionrejectedmember'],
};

function refOf(node: XmlNode): RecipientRef {
  const ref: RecipientRef = {};
  const set = (key: keyof RecipientRef, tag: string) => {
    const v = textOf(node, tag);
    if (v) ref[key] = v;
  };
  set('displayname', 'displayname');
  set('syncObjectId', 'syncobjectid');
  set('path', 'path');
  set('email', 'email');
  return ref;
}

function page(node: XmlNode) {
  const index = intOf(node, 'pageindex');
  const size = intOf(node, 'pagesize');
  return { ...(index !== undefined ? { index } : {}), ...(size ? { size } : {}) };
}

function groupQueryOf(node: XmlNode): GroupQuery {
  const q: GroupQuery = { page: page(node) };
  const dn = textOf(node, 'displaynamefilter');
  if (dn) q.displayNamePrefix = dn;
  const em = textOf(node, 'emailfilter');
  if (em) q.emailPrefix = em;
  const group = child(node, 'distributiongroup');
  if (group) {
    q.group = refOf(group);
    q.lists = [];
    q.probe = {};
    for (const [list, [outer, inner]] of Object.entries(LIST_TAGS) as [GroupList, [string, string]][]) {
      const listNode = child(group, outer);
      if (!listNode) continue;
      q.lists.push(list);
      q.probe[list] = children(listNode, inner).map(refOf);
    }
  }
  return q;
}

function entryToWire(tag: string, e: ListEntry, probe: boolean): OutNode {
  const r = e.recipient;
  return el(tag, [
    el('displayname', r?.displayname ?? e.ref.displayname ?? null),
    el('syncobjectid', r?.syncObjectId ?? e.ref.syncObjectId ?? null),
    el('path', r?.path ?? e.ref.path ?? null),
    el('email', r?.email ?? e.ref.email ?? null),
    el('enabled', r?.enabled ?? false),
    ...(probe ? [el('exists', e.exists)] : []),
    el('selected', e.selected),
  ]);
}

function groupToWire(g: DistributionGroup, query: GroupQuery): OutNode {
  const out: OutNode[] = [
    el('displayname', g.displayname),
    el('syncobjectid', g.syncObjectId),
    el('enabled', g.enabled),
    el('path', g.path),
    el('email', g.email),
    el('emailalias', g.emailAlias),
    el('mailtip', g.mailtip),
    el('grouptype', g.groupType),
    el('hidefromaddresslists', g.hideFromAddressLists),
    el('requiresenderauthentication', g.requireSenderAuthentication),
    el('memberjoinrestriction', g.memberJoinRestriction),
    el('memberdepartrestriction', g.memberDepartRestriction),
    el('sendmoderationnotifications', g.sendModerationNotifications),
    el(
      'emailaddresses',
      g.emailAddresses.map((a) => el('emailaddress', a)),
    ),
    // seed: owners are written <owners><owners>…</owners></owners>
    el(
      'owners',
      g.owners.map((o) =>
        el('owners', [el('displayname', o.displayname), el('syncobjectid', o.syncObjectId), el('path', o.path), el('email', o.email)]),
      ),
    ),
  ];
  for (const [list, [outer, inner]] of Object.entries(LIST_TAGS) as [GroupList, [string, string]][]) {
    const entries = g.lists[list];
    if (entries)
      out.push(
        el(
          outer,
          entries.map((e) => entryToWire(inner, e, (query.probe?.[list]?.length ?? 0) > 0)),
        ),
      );
  }
  return el('distributiongroup', out);
}

function contactToWire(c: Contact): OutNode {
  return el('contact', [
    el('displayname', c.displayname),
    el('syncobjectid', c.syncObjectId),
    el('enabled', c.enabled),
    el('path', c.path),
    el('email', c.email),
    el('emailalias', c.emailAlias),
    ...CONTACT_DETAILS.map((d) => el(d, c.details[d] ?? null)),
    el('hidefromaddresslists', c.hideFromAddressLists),
  ]);
}

function groupInputOf(node: XmlNode): GroupInput {
  const input: GroupInput = { ...refOf(node) };
  if (textOf(node, 'action')?.toLowerCase() === 'delete') input.delete = true;
  const bool = (key: keyof GroupInput, tag: string) => {
    const v = textOf(node, tag) ? boolOf(node, tag) : undefined;
    if (v !== undefined) (input as Record<string, unknown>)[key] = v;
  };
  bool('enabled', 'enabled');
  bool('hideFromAddressLists', 'hidefromaddresslists');
  bool('requireSenderAuthentication', 'requiresenderauthentication');
  bool('sendModerationNotifications', 'sendmoderationnotifications');
  const text = (key: keyof GroupInput, tag: string) => {
    const v = textOf(node, tag);
    if (v) (input as Record<string, unknown>)[key] = v;
  };
  text('emailAlias', 'emailalias');
  text('mailtip', 'mailtip');
  text('groupType', 'grouptype');
  text('memberJoinRestriction', 'memberjoinrestriction');
  text('memberDepartRestriction', 'memberdepartrestriction');
  const addresses = child(node, 'emailaddresses');
  if (addresses) input.emailAddresses = children(addresses, 'emailaddress').map((a) => a.text);
  const owners = child(node, 'owners');
  if (owners) input.owners = [...children(owners, 'owners'), ...children(owners, 'owner')].map(refOf);
  input.changes = {};
  for (const [list, [outer, inner]] of Object.entries(LIST_TAGS) as [GroupList, [string, string]][]) {
    const listNode = child(node, outer);
    if (listNode) input.changes[list] = children(listNode, inner).map(changeOf);
  }
  return input;
}

/** seed: <selected> adds (true) or removes (false); the complete example writes <enabled>, taken alike. */
function changeOf(node: XmlNode): ListChange {
  const flag = textOf(node, 'selected') ? boolOf(node, 'selected') : textOf(node, 'enabled') ? boolOf(node, 'enabled') : undefined;
  return { ref: refOf(node), selected: flag ?? true };
}

function contactInputOf(node: XmlNode): ContactInput {
  const input: ContactInput = { ...refOf(node) };
  if (textOf(node, 'action')?.toLowerCase() === 'delete') input.delete = true;
  if (textOf(node, 'enabled')) input.enabled = boolOf(node, 'enabled');
  if (textOf(node, 'hidefromaddresslists')) input.hideFromAddressLists = boolOf(node, 'hidefromaddresslists');
  const alias = textOf(node, 'emailalias');
  if (alias) input.emailAlias = alias;
  const details = Object.fromEntries(CONTACT_DETAILS.map((d) => [d, textOf(node, d)]).filter(([, v]) => v));
  if (Object.keys(details).length) input.details = details;
  return input;
}

/** GET extras inside a Hosted Exchange <service>: <distributiongroups> and <contacts>. */
export async function exchangeServiceGet(cx: ReadContext, customer: Customer, user: User | undefined, node: XmlNode): Promise<OutNode[]> {
  const out: OutNode[] = [];
  const groups = child(node, 'distributiongroups');
  if (groups) {
    const query = groupQueryOf(groups);
    const list = user ? await distributionGroupsOfUser(cx.db, customer, user) : await distributionGroupsOf(cx.db, customer, query);
    out.push(
      el(
        'distributiongroups',
        list.map((g) => groupToWire(g, query)),
      ),
    );
  }
  const contacts = child(node, 'contacts');
  if (contacts && !user) {
    const syncFilter = textOf(contacts, 'syncfilter');
    const dn = textOf(contacts, 'displaynamefilter');
    const list = await contactsOf(cx.db, customer, {
      page: page(contacts),
      ...(dn ? { displayNamePrefix: dn } : {}),
      ...(syncFilter ? { syncObjectId: syncFilter } : {}),
    });
    out.push(el('contacts', list.map(contactToWire)));
  }
  return out;
}

/** SET extras inside a Hosted Exchange <service>: groups and contacts of the customer, or the user's group membership. */
export async function exchangeServiceSet(cx: WriteContext, customer: Customer, user: User | undefined, node: XmlNode): Promise<void> {
  const groups = child(node, 'distributiongroups');
  if (groups) {
    const items = children(groups, 'distributiongroup');
    if (user) await setUserDistributionGroups(cx.tx, cx.caller, customer, user, items.map(changeOf));
    else await setDistributionGroups(cx.tx, cx.caller, customer, items.map(groupInputOf));
  }
  const contacts = child(node, 'contacts');
  if (contacts && !user) await setContacts(cx.tx, cx.caller, customer, children(contacts, 'contact').map(contactInputOf));
}
