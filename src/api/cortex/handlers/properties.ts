import { DomainError } from '../../../core/errors.js';
import type { PropertyDefinition } from '../../../catalog/catalog.service.js';
import { el, type OutNode } from '../serialize.js';
import { child, children, parseBoolean, parseInteger, parseLimit, textOf, type XmlNode } from '../xml.js';

/** What a <properties detail=".." filter=".."/> request element asks for. */
export interface PropertiesRequest {
  detail: boolean;
  /** filter="all": every defined property, not only those with a value. */
  all: boolean;
}

export function propertiesRequestOf(node: XmlNode, tag = 'properties'): PropertiesRequest | undefined {
  const p = child(node, tag);
  if (!p) return undefined;
  return {
    detail: p.attrs.detail !== undefined && parseBoolean(p.attrs.detail, `${tag} detail`),
    all: p.attrs.filter?.toLowerCase() === 'all',
  };
}

/** Renders properties; with detail each carries its definition (display name, type, default). */
export function propertiesToWire(
  values: Record<string, string>,
  defs: Pick<PropertyDefinition, 'name' | 'displayname' | 'type' | 'default_value'>[],
  req: PropertiesRequest,
  tag = 'properties',
): OutNode {
  const names = new Set(Object.keys(values));
  if (req.all) for (const d of defs) names.add(d.name);
  const rows = [...names].map((name) => {
    const def = defs.find((d) => d.name.toLowerCase() === name.toLowerCase());
    const value = values[name] ?? def?.default_value ?? null;
    const detail = req.detail && def ? [el('displayname', def.displayname), el('type', def.type), el('default', def.default_value)] : [];
    return el('property', [el('name', name), el('value', value), ...detail]);
  });
  return el(tag, rows);
}

/**
 * Reads <properties><property><name/><value/></property></properties>. When definitions exist,
 * names must be defined (code 19) and values must fit their type (codes 38, 7, 32).
 */
export function propertiesOf(
  node: XmlNode,
  defs: Pick<PropertyDefinition, 'name' | 'type'>[] | undefined,
  tag = 'properties',
): Record<string, string> | undefined {
  const p = child(node, tag);
  if (!p) return undefined;
  const out: Record<string, string> = {};
  for (const prop of children(p, 'property')) {
    const name = textOf(prop, 'name') ?? prop.attrs.name;
    if (!name) throw new DomainError('InvalidProperty', 'A <property> must have a <name>.');
    const value = textOf(prop, 'value') ?? '';
    const def = defs?.find((d) => d.name.toLowerCase() === name.toLowerCase());
    if (defs && defs.length && !def) throw new DomainError('InvalidProperty', `The property '${name}' is not valid here.`);
    out[def?.name ?? name] = checked(value, def?.type, name);
  }
  return out;
}

function checked(value: string, type: string | undefined, name: string): string {
  if (type === 'integer') return String(parseInteger(value, name));
  if (type === 'limit') {
    const limit = parseLimit(value, name);
    return limit === null ? 'Unlimited' : String(limit);
  }
  if (type === 'boolean') return parseBoolean(value, name) ? 'True' : 'False';
  return value;
}
