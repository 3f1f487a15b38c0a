import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { groupRequests, recordCompletedRequest } from '../../provisioning/requests.js';
import type { Caller } from '../../tenancy/caller.js';
import { HANDLERS, type EntityHandlers, type WriteOutcome } from './handlers/index.js';
import { el, type OutNode } from './serialize.js';
import type { CortexRequest, XmlNode } from './xml.js';

/** Runs one parsed request and returns the elements of the response. */
export async function executeCortex(app: AppContext, caller: Caller, request: CortexRequest): Promise<OutNode[]> {
  const targets = request.entities.filter((n) => Object.hasOwn(HANDLERS, n.tag));
  for (const node of targets) handlerFor(HANDLERS[node.tag]!, node, request.action);
  if (request.action === 'FIND' || request.action === 'GET') {
    const out: OutNode[] = [];
    for (const node of targets)
      out.push(
        ...(await handlerFor(HANDLERS[node.tag]!, node, request.action)!(node, { app, caller, db: app.db, action: request.action })),
      );
    return out;
  }
  const action = request.action;
  // seed: the whole SET is one change — all of it is applied, or none of it.
  return inTransaction(app.db, async (tx) => {
    const outcome: WriteOutcome = {};
    const { result, requestId } = await groupRequests(tx, caller, async () => {
      const extra: OutNode[] = [];
      for (const node of targets) {
        const produced = await handlerFor(HANDLERS[node.tag]!, node, action)!(node, { app, caller, tx, action, outcome });
        if (produced) extra.push(...produced);
      }
      return extra;
    });
    // Every SET/DELETE answers with a request id, even one with nothing to provision.
    const id =
      requestId ??
      outcome.requestId ??
      (await recordCompletedRequest(tx, caller, outcome.customerId ?? caller.customerId, 'No changes to provision'));
    return [el('request', [el('id', id)]), ...result];
  });
}

function handlerFor<A extends keyof EntityHandlers>(handlers: EntityHandlers, node: XmlNode, action: A): EntityHandlers[A] {
  const handler = handlers[action];
  if (!handler) throw new DomainError('InvalidAction', `The action ${action} is not available for <${node.tag}>.`);
  return handler;
}
