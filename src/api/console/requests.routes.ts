import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { inTransaction } from '../../core/db/database.js';
import type { ProvisioningStatus } from '../../core/statuses.js';
import { callerForUser } from '../../tenancy/auth.service.js';
import { sessionEnded } from '../../tenancy/sessions/session.service.js';
import { onCredentialsChanged, type CredentialChange } from '../../tenancy/sign-in/credential-events.js';
import { retryRequest } from '../../provisioning/request-admin.js';
import { viewRequest } from '../../provisioning/request-view.js';
import { childRequests, findRequests, requestItem, type RequestListItem } from '../../provisioning/request-list.js';
import { REPLAY_LIMIT, requestChangesSince, requestFeed, type RequestStatusChange } from '../../provisioning/request-feed.js';
import type { RequestEntity } from '../../provisioning/schema.js';
import { consoleGate, type ConsoleAuth } from './console-auth.js';
import { consoleRouter } from './console-handler.js';
import { sessionEndedWire } from './errors.js';
import {
  arrayOf,
  dateTime,
  id,
  idParams,
  int,
  nullableDateTime,
  nullableStr,
  obj,
  pageOf,
  paging,
  ref,
  shape,
  status,
  str,
} from './schemas.js';

const TAG = 'Provisioning requests';
const ENTITIES = ['customer', 'user', 'customer_service', 'user_service', 'service_instance'];

const requestRow = shape({
  id: int(),
  parentId: { type: ['integer', 'null'] },
  rootId: int(),
  entity: { type: 'string', enum: ENTITIES },
  entityId: int(),
  entityName: nullableStr(),
  customer: ref,
  action: { type: 'string', enum: ['provision', 'update', 'deprovision', 'delete'] },
  status,
  attempts: int(),
  requestedBy: str(),
  createdAt: dateTime,
  startedAt: nullableDateTime,
  finishedAt: nullableDateTime,
  error: nullableStr(4000),
});
const requestDetail = shape({
  ...(requestRow.properties as object),
  log: arrayOf(
    shape({ at: dateTime, level: { type: 'string', enum: ['info', 'warning', 'verbose', 'error'] }, message: str(10000) }),
    100000,
  ),
  steps: arrayOf(shape({ step: str(), startedAt: dateTime, durationMs: { type: 'number' } })),
  children: arrayOf(requestRow),
});

/** Requests: filtered list, detail with log lines, step times and children, retry, and the live status stream. */
export function consoleRequestRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);
  const idOf = (req: FastifyRequest) => (req.params as { id: number }).id;
  const streams = new Set<FastifyReply>();

  route(
    {
      method: 'GET',
      url: '/api/console/requests',
      tag: TAG,
      summary: 'Provisioning requests, newest first, filtered by status, entity, customer and creation date',
      querystring: obj({
        status,
        entity: { type: 'string', enum: ENTITIES },
        customerId: id,
        from: dateTime,
        to: dateTime,
        topLevel: { type: 'boolean', default: true },
        page: paging.page!,
        pageSize: paging.pageSize!,
      }),
      response: { 200: pageOf(requestRow) },
    },
    async ({ caller }, req) => {
      const q = req.query as {
        status?: ProvisioningStatus;
        entity?: RequestEntity;
        customerId?: number;
        from?: string;
        to?: string;
        topLevel: boolean;
        page: number;
        pageSize: number;
      };
      const page = await findRequests(ctx.db, caller, {
        ...q,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
      });
      return { ...page, items: page.items.map(toWire) };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/requests/:id',
      tag: TAG,
      summary: 'One request with its log lines, step times and child requests',
      params: idParams,
      response: { 200: requestDetail },
    },
    async ({ caller }, req) => {
      const view = await viewRequest(ctx.db, caller, idOf(req), { log: true, times: true });
      const [item, children] = await Promise.all([
        requestItem(ctx.db, caller, view.request.id),
        childRequests(ctx.db, caller, view.request.id),
      ]);
      return {
        ...toWire(item!),
        log: (view.log ?? []).map((l) => ({ at: l.at.toISOString(), level: l.level, message: l.message })),
        steps: (view.times ?? []).map((s) => ({ step: s.step, startedAt: s.started_at.toISOString(), durationMs: Number(s.duration_ms) })),
        children: children.map(toWire),
      };
    },
  );

  route(
    {
      method: 'POST',
      url: '/api/console/requests/:id/retry',
      tag: TAG,
      permission: 'Manage Services',
      params: idParams,
      summary: "Retry the failed requests of a request's tree",
      response: { 200: shape({ retried: arrayOf(int()) }) },
    },
    async ({ caller }, req) => ({ retried: await inTransaction(ctx.db, (tx) => retryRequest(tx, caller, idOf(req))) }),
  );

  route(
    {
      method: 'GET',
      url: '/api/console/requests/events',
      tag: TAG,
      summary: 'Live request status changes (text/event-stream): one "request" event per change the caller may see',
      description:
        'Each event: `event: request`, `data: {"eventId","id","rootId","parentId","customerId","entity","entityId","action","status","at"}`. `id:` is the eventId: a reconnect with `Last-Event-ID` first gets the changes the caller missed after it (up to 1000; more and a single `event: reset` says to re-read instead). A comment line every 25 s keeps the stream open. When the session ends (expired, signed out, user or customer disabled) a last `event: signed-out` with `data: {"code","message"}` says why and the stream closes.',
    },
    async (auth, req, reply) => openStream(auth, req, reply),
  );

  app.addHook('preClose', async () => {
    for (const s of streams) s.raw.end();
    streams.clear();
  });

  async function openStream(auth: ConsoleAuth, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const feed = requestFeed(ctx.database);
    // A stream waits, it does not work: it counts against the caller's rate, not its concurrent requests
    // (a few open tabs must not lock the user out), and a hijacked reply never reaches onResponse.
    req.releaseFairUseSlot?.();
    req.releaseFairUseSlot = undefined;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    streams.add(reply);
    const send = (change: RequestStatusChange) => {
      if (!raw.writableEnded) raw.write(`event: request\nid: ${change.eventId}\ndata: ${JSON.stringify(change)}\n\n`);
    };
    // A reconnecting EventSource names the last event it saw: the changes it missed come first, each once.
    const resumeAfter = lastEventIdOf(req);
    let held: RequestStatusChange[] | undefined = resumeAfter === undefined ? undefined : [];
    const deliver = (change: RequestStatusChange) => (held ? held.push(change) : send(change));
    let unsubscribe: (() => void) | undefined;
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe?.();
      stopWatchingCredentials();
      streams.delete(reply);
      if (!raw.writableEnded) raw.end();
    };
    // The stream ends with a "signed-out" event that says why, so the page shows it instead of reconnecting.
    const check = () =>
      void endedBecause(auth).then(
        (ended) => {
          if (!ended) return;
          if (!raw.writableEnded) raw.write(`event: signed-out\ndata: ${JSON.stringify(ended)}\n\n`);
          close();
        },
        () => close(),
      );
    // Comments keep proxies from closing an idle stream, and re-check that the session may go on.
    const heartbeat = setInterval(() => {
      if (!raw.writableEnded) raw.write(': keep-alive\n\n');
      check();
    }, consoleGate(ctx).streamCheckMs);
    heartbeat.unref();
    // A user or customer disabled ends its streams at once, not at the next heartbeat.
    const stopWatchingCredentials = onCredentialsChanged((change) => {
      if (concerns(change, auth)) check();
    });
    req.raw.on('close', close);
    try {
      unsubscribe = await feed.subscribe(auth.caller, deliver);
      // Said once subscribed: a change committed after this comment reaches the stream.
      if (!raw.writableEnded) raw.write(': connected\n\n');
      if (resumeAfter !== undefined) {
        const missed = await requestChangesSince(ctx.db, auth.caller, resumeAfter, REPLAY_LIMIT + 1);
        // Too much was missed to send one by one: the page re-reads what it shows instead.
        if (missed.length > REPLAY_LIMIT) raw.write('event: reset\ndata: {}\n\n');
        else missed.forEach(send);
        const sent = new Set(missed.map((c) => c.eventId));
        const waiting = held ?? [];
        held = undefined;
        for (const change of waiting) if (!sent.has(change.eventId)) send(change);
      }
    } catch (e) {
      req.log.error({ err: e }, 'request status stream could not start');
      close();
    }
    if (raw.writableEnded) unsubscribe?.();
  }

  async function endedBecause(auth: ConsoleAuth): Promise<{ code: string; message: string } | undefined> {
    if (auth.session) {
      const ended = await sessionEnded(ctx.db, auth.session.id, consoleGate(ctx).clock);
      return ended && sessionEndedWire(ended);
    }
    if (auth.caller.userId !== null && (await callerForUser(ctx.db, auth.caller.userId))) return undefined;
    return { code: 'NotAuthenticated', message: 'You are not signed in.' };
  }
}

/** The event id a reconnecting EventSource sends (Last-Event-ID); anything else (an older id format) resumes nothing. */
function lastEventIdOf(req: FastifyRequest): number | undefined {
  const header = req.headers['last-event-id'];
  return typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/** Whether a credential change may have taken the stream's caller's right to sign in. */
function concerns(change: CredentialChange, auth: ConsoleAuth): boolean {
  if (change.userId === undefined && change.customerId === undefined) return true;
  return change.userId === auth.caller.userId || change.customerId === auth.caller.customerId;
}

function toWire(r: RequestListItem) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return { ...r, createdAt: r.createdAt.toISOString(), startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) };
}
