import { findCustomers } from '../../../tenancy/customer.service.js';
import type { CustomerFilter } from '../../../tenancy/customer.queries.js';
import { el, type OutNode } from '../serialize.js';
import { textOf, intOf, type XmlNode } from '../xml.js';
import type { EntityHandlers, ReadContext } from './types.js';
import type { Customer } from '../../../tenancy/customer.service.js';

function customerSummary(c: Customer): OutNode[] {
  return [el('name', c.name), el('id', c.id), el('fullname', c.fullname), el('billingid', c.billingId), el('primarydomain', c.primaryDomain), el('status', c.status)];
}

async function findCustomer(node: XmlNode, cx: ReadContext): Promise<OutNode[]> {
  const filter: CustomerFilter = {};
  const name = textOf(node, 'name');
  if (name !== undefined) filter.name = name;
  const id = intOf(node, 'id');
  if (id !== undefined) filter.id = id;
  const rows = await findCustomers(cx.db, cx.caller, filter);
  return rows.map((c) => el('customer', customerSummary(c)));
}

export const customerHandlers: EntityHandlers = { FIND: findCustomer };
