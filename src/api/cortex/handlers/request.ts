import { DomainError } from '../../../core/errors.js';
import { viewChildRequests, viewRequest, type RequestView } from '../../../provisioning/request-view.js';
import { el, type OutNode } from '../serialize.js';
import { child, intOf, type XmlNode } from '../xml.js';
import type { EntityHandlers } from './types.js';

const time = (d: Date | null): string | null => (d ? d.toISOString() : null);

function requestToWire(v: RequestView): OutNode {
  const r = v.request;
  const out: OutNode[] = [
    el('id', r.id),
    el('parentid', r.parent_id),
    el('entity', r.entity),
    el('entityid', r.entity_id),
    el('action', r.action),
    el('status', r.status),
    el('requestedby', r.requested_by),
    el('created', time(r.created_at)),
    el('started', time(r.started_at)),
    el('finished', time(r.finished_at)),
    el('error', r.error),
  ];
  if (v.log)
    out.push(
      el(
        'log',
        v.log.map((l) => el('entry', [el('time', time(l.at)), el('level', l.level), el('message', l.message)])),
      ),
    );
  if (v.times)
    out.push(
      el(
        'times',
        v.times.map((t) => el('time', [el('step', t.step), el('start', time(t.started_at)), el('duration', t.duration_ms)])),
      ),
    );
  return el('request', out);
}

/** Seed "Provisioning Requests": GET by <id> or by <parentid>, with <log/> and <times/> on demand. */
export const requestHandlers: EntityHandlers = {
  GET: async (node: XmlNode, cx) => {
    const detail = { log: child(node, 'log') !== undefined, times: child(node, 'times') !== undefined };
    const id = intOf(node, 'id');
    const parentId = intOf(node, 'parentid');
    if (id !== undefined) return [requestToWire(await viewRequest(cx.db, cx.caller, id, detail))];
    if (parentId !== undefined) return (await viewChildRequests(cx.db, cx.caller, parentId, detail)).map(requestToWire);
    throw new DomainError('InvalidXmlFormat', 'A request is selected by <id> or <parentid>.');
  },
};
