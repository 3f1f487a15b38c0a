import type { LocationPropertyDefinition } from '../../../tenancy/schema.js';
import {
  deleteLocation,
  findLocations,
  getLocation,
  setLocation,
  type Location,
  type LocationRef,
} from '../../../tenancy/location.service.js';
import { el, type OutNode } from '../serialize.js';
import { boolOf, child, children, intOf, textOf, type XmlNode } from '../xml.js';
import { namedRefOf } from './refs.js';
import type { EntityHandlers } from './types.js';

function refOf(node: XmlNode): LocationRef {
  const ref: LocationRef = {};
  const name = textOf(node, 'name');
  if (name) ref.name = name;
  const id = intOf(node, 'id');
  if (id !== undefined) ref.id = id;
  return ref;
}

const serviceNodes = (l: Location): OutNode[] => l.services.map((s) => el('service', [el('name', s.name), el('fullname', s.fullname)]));

function definitionsToWire(tag: string, defs: LocationPropertyDefinition[]): OutNode {
  return el(
    tag,
    defs.map((d) =>
      el('property', [
        el('name', d.name),
        el('displayname', d.displayname),
        el('value', d.default ?? null),
        el('required', d.required ?? false),
      ]),
    ),
  );
}

function definitionsOf(node: XmlNode | undefined): LocationPropertyDefinition[] | undefined {
  if (!node) return undefined;
  return children(node, 'property').map((p) => {
    const value = textOf(p, 'value');
    const required = boolOf(p, 'required');
    return {
      name: textOf(p, 'name') ?? '',
      displayname: textOf(p, 'displayname') || (textOf(p, 'name') ?? ''),
      ...(value ? { default: value } : {}),
      ...(required ? { required } : {}),
    };
  });
}

/** GET: the location with its services; the customer/user property definitions when asked (seed examples). */
function locationDetail(l: Location, node: XmlNode): OutNode {
  const out: OutNode[] = [el('name', l.name), el('id', l.id), el('description', l.description), ...serviceNodes(l)];
  const customer = child(node, 'customer');
  if (customer && child(customer, 'customerproperties'))
    out.push(el('customer', [definitionsToWire('customerproperties', l.customerProperties)]));
  const user = child(node, 'user');
  if (user && child(user, 'additionalproperties'))
    out.push(el('user', [definitionsToWire('additionalproperties', l.additionalProperties)]));
  return el('location', out);
}

export const locationHandlers: EntityHandlers = {
  /** FIND: every location; with <service/> the services at each, with <service><name>… only locations offering it. */
  FIND: async (node, cx) => {
    const serviceNode = child(node, 'service');
    const locations = await findLocations(cx.db, cx.caller, {
      ...refOf(node),
      ...(serviceNode ? { service: namedRefOf(serviceNode) } : {}),
    });
    return locations.map((l) =>
      el('location', [el('name', l.name), el('id', l.id), el('description', l.description), ...(serviceNode ? serviceNodes(l) : [])]),
    );
  },
  GET: async (node, cx) => [locationDetail(await getLocation(cx.db, cx.caller, refOf(node)), node)],
  /** SET: create or update; <service> elements replace the services offered there. Nothing is provisioned. */
  SET: async (node, cx) => {
    const services = children(node, 'service');
    const customer = child(node, 'customer');
    const user = child(node, 'user');
    const description = textOf(node, 'description');
    const customerProperties = definitionsOf(customer && child(customer, 'customerproperties'));
    const additionalProperties = definitionsOf(user && child(user, 'additionalproperties'));
    const { location } = await setLocation(cx.tx, cx.caller, {
      ...(intOf(node, 'id') !== undefined ? { id: intOf(node, 'id') } : {}),
      name: textOf(node, 'name') ?? '',
      ...(description !== undefined ? { description } : {}),
      ...(services.length ? { services: services.map(namedRefOf) } : {}),
      ...(customerProperties ? { customerProperties } : {}),
      ...(additionalProperties ? { additionalProperties } : {}),
    });
    return [el('location', [el('name', location.name), el('id', location.id)])];
  },
  DELETE: async (node, cx) => {
    await deleteLocation(cx.tx, cx.caller, refOf(node));
  },
};
