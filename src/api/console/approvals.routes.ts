import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import { approvalsOf, answerApproval, type ApprovalView } from '../../approvals/approval-response.service.js';
import '../../approvals/approval-gate.js';
import { getIdentity } from '../../tenancy/identity.service.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, dateTime, nullableDateTime, nullableStr, obj, requestIdAnswer, shape, str } from './schemas.js';

const TAG = 'Approvals';

const person = shape({ name: str(), fullname: str(), email: nullableStr() });
const approvalStatus = { type: 'string', enum: ['Pending', 'Accepted', 'Rejected'] };
const approval = shape({
  description: str(1000),
  status: approvalStatus,
  requestDate: dateTime,
  resolvedDate: nullableDateTime,
  customer: shape({ name: str(), fullname: str() }),
  requestedBy: { ...person, nullable: true },
  provisioningRequestId: { type: 'integer' },
  subscriptions: arrayOf(
    shape({
      id: str(),
      status: approvalStatus,
      requestDate: dateTime,
      resolvedDate: nullableDateTime,
      reason: nullableStr(1000),
      user: person,
    }),
  ),
});
const subscriptionParams = obj({ subscriptionId: { type: 'string', format: 'uuid' } }, ['subscriptionId']);

/** Approvals: what waits for the caller (or, for administrators, anyone in their reach) and the answers. */
export function consoleApprovalRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);

  route(
    {
      method: 'GET',
      url: '/api/console/approvals',
      tag: TAG,
      querystring: obj({ all: { type: 'boolean', default: false }, mine: { type: 'boolean', default: true } }),
      summary: "Approvals: by default the pending ones asking the caller; mine=false lists every approval in the caller's reach",
      response: { 200: shape({ items: arrayOf(approval) }) },
    },
    async ({ caller }, req) => {
      const q = req.query as { all: boolean; mine: boolean };
      const { customer, user } = await getIdentity(ctx.db, caller);
      const items = await approvalsOf(ctx.db, caller, customer, { all: q.all, ...(q.mine && user ? { user } : {}) });
      return { items: items.map(toWire) };
    },
  );

  for (const [action, status] of [
    ['approve', 'Accepted'],
    ['reject', 'Rejected'],
  ] as const) {
    route(
      {
        method: 'POST',
        url: `/api/console/approvals/:subscriptionId/${action}`,
        tag: TAG,
        params: subscriptionParams,
        body: obj({ comment: str(1000) }),
        summary:
          action === 'approve'
            ? 'Approve: the held request runs once every approval it needs has been given'
            : 'Reject: the held request fails',
        response: { 200: requestIdAnswer },
      },
      async ({ caller }, req: FastifyRequest) => {
        const { subscriptionId } = req.params as { subscriptionId: string };
        const comment = (req.body as { comment?: string } | undefined)?.comment;
        const { customer } = await getIdentity(ctx.db, caller);
        const requestId = await inTransaction(ctx.db, (tx) =>
          answerApproval(tx, caller, customer, { id: subscriptionId, status, ...(comment ? { reason: comment } : {}) }),
        );
        return { requestId };
      },
    );
  }
}

function toWire(a: ApprovalView) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    ...a,
    requestDate: a.requestDate.toISOString(),
    resolvedDate: iso(a.resolvedDate),
    requestedBy: a.requestedBy ?? null,
    subscriptions: a.subscriptions.map((s) => ({ ...s, requestDate: s.requestDate.toISOString(), resolvedDate: iso(s.resolvedDate) })),
  };
}
