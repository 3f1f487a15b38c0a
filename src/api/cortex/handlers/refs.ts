import { DomainError } from '../../../core/errors.js';
import { parseStatus, type ProvisioningStatus } from '../../../core/statuses.js';
import type { NamedRef } from '../../../catalog/catalog.service.js';
import type { CustomerRef } from '../../../tenancy/customer.queries.js';
import type { UserRef } from '../../../tenancy/user.service.js';
import { child, intOf, textOf, type XmlNode } from '../xml.js';

/** Selectors of a customer: <name>, <fullname>, <id>, <billingid> (seed: "Customers can be selected with one of these fields"). */
export function customerRefOf(node: XmlNode): CustomerRef {
  const ref: CustomerRef = {};
  const id = intOf(node, 'id');
  if (id !== undefined) ref.id = id;
  for (const [tag, key] of [
    ['name', 'name'],
    ['fullname', 'fullname'],
    ['billingid', 'billingid'],
  ] as const) {
    const v = textOf(node, tag);
    if (v !== undefined && v !== '') ref[key] = v;
  }
  return ref;
}

export const isEmptyRef = (ref: object): boolean => Object.keys(ref).length === 0;

/** <parent> names the parent by <name>/<fullname>/<id>, or holds its short name as text. */
export function parentRefOf(node: XmlNode): CustomerRef | undefined {
  const parent = child(node, 'parent');
  if (!parent) return undefined;
  const ref = customerRefOf(parent);
  if (isEmptyRef(ref) && parent.text !== '') ref.name = parent.text;
  return isEmptyRef(ref) ? undefined : ref;
}

/** One selector of a user, the most specific given: id, name, upn, then fullname (a GET answer names all four). */
export function userRefOf(node: XmlNode): UserRef {
  const id = intOf(node, 'id');
  if (id !== undefined) return { id };
  for (const tag of ['name', 'upn', 'fullname'] as const) {
    const v = textOf(node, tag);
    if (v !== undefined && v !== '') return { [tag]: v };
  }
  return {};
}

/** A service, package or user plan by <name> or <fullname> (or <id>). */
export function namedRefOf(node: XmlNode): NamedRef {
  const ref: NamedRef = {};
  const id = intOf(node, 'id');
  if (id !== undefined) ref.id = id;
  const name = textOf(node, 'name');
  if (name) ref.name = name;
  const fullname = textOf(node, 'fullname');
  if (fullname) ref.fullname = fullname;
  if (isEmptyRef(ref) && node.text !== '') ref.name = node.text;
  return ref;
}

/** Appendix A code 17 for anything but the six status words (any letter case). */
export function statusOf(node: XmlNode): ProvisioningStatus | undefined {
  const raw = textOf(node, 'status');
  if (raw === undefined) return undefined;
  const status = parseStatus(raw);
  if (!status) {
    throw new DomainError(
      'InvalidStatus',
      `The status '${raw}' is not valid: use Provisioned, Failed, Pending, Requested, InProgress or NotProvisioned.`,
    );
  }
  return status;
}

/** Text of an optional element; an empty element clears a nullable field. */
export function nullableTextOf(node: XmlNode, tag: string): string | null | undefined {
  const v = textOf(node, tag);
  return v === undefined ? undefined : v === '' ? null : v;
}
