import { DomainError } from '../../../core/errors.js';
import type { Customer } from '../../../tenancy/customer.service.js';
import {
  createUser,
  deleteUser,
  findUser,
  findUsers,
  fullnameOf,
  getUser,
  updateUser,
  userRoles,
  type PasswordInput,
  type User,
  type UserFields,
  type UserFilter,
} from '../../../tenancy/user.service.js';
import { el, type OutNode } from '../serialize.js';
import { boolOf, child, children, textOf, type XmlNode } from '../xml.js';
import { propertiesOf, propertiesRequestOf, propertiesToWire } from './properties.js';
import { nullableTextOf, statusOf, userRefOf } from './refs.js';
import { findUserServices, getUserService, setUserService } from './services.js';
import type { ReadContext, WriteContext } from './types.js';
import { exchangeServiceGet } from './exchange.js';
import { approvalUserGet, approvalUserSet } from './approvals.js';
import { deprovisionUser, reprovisionUser } from '../../../provisioning/user-lifecycle.js';
import { isApprovalPending } from '../../../approvals/approval-response.service.js';

function userSummary(u: User): OutNode[] {
  return [
    el('name', u.name),
    el('id', u.id),
    el('fullname', fullnameOf(u)),
    el('upn', u.upn),
    el('location', u.location),
    el('department', u.department),
    el('status', u.status),
  ];
}

/** FIND <user> filters: name, fullname, id, upn, location, department, status. */
export async function findUsersIn(cx: ReadContext, customer: Customer, node: XmlNode): Promise<OutNode[]> {
  const filter: UserFilter = { ...userRefOf(node) };
  for (const tag of ['location', 'department'] as const) {
    const v = textOf(node, tag);
    if (v) filter[tag] = v;
  }
  const status = statusOf(node);
  if (status) filter.status = status;
  const users = await findUsers(cx.db, cx.caller, customer, filter);
  const serviceNode = child(node, 'service');
  const out: OutNode[] = [];
  for (const u of users) {
    const services = serviceNode ? await findUserServices(cx.db, customer, u, serviceNode) : [];
    out.push(el('user', [...userSummary(u), ...services]));
  }
  return out;
}

/** GET of one user: the details a SET takes back, plus properties and services when asked. */
export async function getUserIn(cx: ReadContext, customer: Customer, node: XmlNode): Promise<OutNode> {
  const user = await getUser(cx.db, cx.caller, customer, userRefOf(node));
  const [roles, pending] = await Promise.all([userRoles(cx.db, user.id), isApprovalPending(cx.db, 'user', user.id)]);
  const out: OutNode[] = [
    ...userSummary(user).filter((n) => n.tag !== 'status'),
    el('firstname', user.firstName),
    el('lastname', user.lastName),
    el('displayname', user.displayName),
    el('externalemail', user.externalEmail),
    el('enabled', user.enabled),
    el('status', user.status),
    el('approvalpending', pending),
    el(
      'roles',
      roles.map((r) => el('role', [el('name', r)])),
    ),
  ];
  const props = propertiesRequestOf(node);
  if (props) out.push(propertiesToWire(user.properties, [], props));
  const extra = propertiesRequestOf(node, 'additionalproperties');
  if (extra) out.push(propertiesToWire(user.additionalProperties, [], extra, 'additionalproperties'));
  for (const s of children(node, 'service')) {
    const service = await getUserService(cx.db, user, s);
    service.children?.push(...(await exchangeServiceGet(cx, customer, user, s)));
    out.push(service);
  }
  out.push(...(await approvalUserGet(cx, customer, user, node)));
  return el('user', out);
}

/** SET of a user: creates it when the name/upn is new (seed: "User creation requires one of Name, UPN"), else updates it. */
export async function setUserIn(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  const ref = userRefOf(node);
  let user = Object.keys(ref).length ? await findUser(cx.tx, cx.caller, customer, ref) : undefined;
  if (!user && ref.id !== undefined) await getUser(cx.tx, cx.caller, customer, ref);
  if (!user) {
    const name = textOf(node, 'name');
    ({ user } = await createUser(cx.tx, cx.caller, customer, { ...(name ? { name } : {}), ...userFieldsOf(node, undefined) }));
  } else {
    ({ user } = await updateUser(cx.tx, cx.caller, customer, { id: user.id }, userFieldsOf(node, user)));
  }
  const status = statusOf(node);
  // Re-provision before nested service changes (they need a provisioned user); de-provision after them, so it covers them too.
  if (status === 'Provisioned') ({ user } = await reprovisionUser(cx.tx, cx.caller, customer, { id: user.id }));
  for (const s of children(node, 'service')) await setUserService(cx, customer, user, s);
  await approvalUserSet(cx, customer, user, node);
  if (status === 'NotProvisioned') await deprovisionUser(cx.tx, cx.caller, customer, { id: user.id });
}

function userFieldsOf(node: XmlNode, current: User | undefined): UserFields {
  const f: UserFields = {};
  const upn = textOf(node, 'upn');
  if (upn) f.upn = upn;
  for (const [tag, key] of [
    ['firstname', 'firstName'],
    ['lastname', 'lastName'],
    ['displayname', 'displayName'],
    ['externalemail', 'externalEmail'],
  ] as const) {
    const v = nullableTextOf(node, tag);
    if (v !== undefined) f[key] = v;
  }
  // <fullname> is what FIND/GET show: it sets the display name only when it differs from what is shown now.
  const fullname = textOf(node, 'fullname');
  if (fullname && f.displayName === undefined && (!current || fullname !== fullnameOf(current))) f.displayName = fullname;
  for (const tag of ['department', 'location'] as const) {
    const v = textOf(node, tag);
    if (v) f[tag] = v;
  }
  const enabled = boolOf(node, 'enabled');
  if (enabled !== undefined) f.enabled = enabled;
  const expires = textOf(node, 'accountexpires');
  if (expires !== undefined) f.accountExpires = dateOrNever(expires, 'InvalidAccountExpiration') ?? null;
  const properties = propertiesOf(node, undefined);
  if (properties) f.properties = { ...(current?.properties ?? {}), ...properties };
  const additional = propertiesOf(node, undefined, 'additionalproperties');
  if (additional) f.additionalProperties = { ...(current?.additionalProperties ?? {}), ...additional };
  const roles = child(node, 'roles');
  if (roles)
    f.roles = children(roles, 'role')
      .map((r) => textOf(r, 'name') ?? r.text)
      .filter((r) => r !== '');
  const password = passwordOf(node);
  if (password) f.password = password;
  return f;
}

/** <password><password/><changeatnextlogon/><expires>NEVER | YYYY-MM-dd</expires></password> (seed 002, "Provisioning Users"). */
function passwordOf(node: XmlNode): PasswordInput | undefined {
  const p = child(node, 'password');
  if (!p) return undefined;
  const out: PasswordInput = {};
  const password = p.children.length ? textOf(p, 'password') : p.text;
  if (password) out.password = password;
  const change = boolOf(p, 'changeatnextlogon');
  if (change !== undefined) out.changeAtNextLogon = change;
  const expires = textOf(p, 'expires');
  if (expires !== undefined && expires !== '') out.expires = dateOrNever(expires, 'InvalidPasswordExpiration') ?? 'never';
  return out;
}

function dateOrNever(value: string, code: 'InvalidAccountExpiration' | 'InvalidPasswordExpiration'): Date | undefined {
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'never') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!date || date.getUTCDate() !== Number(m![3]))
    throw new DomainError(code, `The date '${value}' is not valid: use YYYY-MM-dd or NEVER.`);
  return date;
}

export async function deleteUserIn(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  await deleteUser(cx.tx, cx.caller, customer, userRefOf(node));
}
