import type { AppContext } from '../../../core/context.js';
import type { Executor, Tx } from '../../../core/db/database.js';
import type { Caller } from '../../../tenancy/caller.js';
import type { OutNode } from '../serialize.js';
import type { XmlNode } from '../xml.js';

/** FIND and GET: read-only, outside any transaction. */
export interface ReadContext {
  app: AppContext;
  caller: Caller;
  db: Executor;
  action: 'FIND' | 'GET';
}

/**
 * SET and DELETE: every handler of one request shares one transaction. Provisioning requests
 * created through `createRequest` are gathered by the dispatcher into the one `<request><id>`.
 */
export interface WriteContext {
  app: AppContext;
  caller: Caller;
  tx: Tx;
  action: 'SET' | 'DELETE';
  /** Shared by every handler of the request; read by the dispatcher when no request was created. */
  outcome: WriteOutcome;
}

/** What a SET/DELETE touched, for its `<request><id>` when it created no provisioning request. */
export interface WriteOutcome {
  /** The first customer addressed: a change-nothing request is recorded against it. */
  customerId?: number;
  /** An existing request acted on (an approval answer releases or fails the request it held). */
  requestId?: number;
}

export type ReadHandler = (node: XmlNode, cx: ReadContext) => Promise<OutNode[]>;
/** May return extra response elements; the request id is added by the dispatcher. */
export type WriteHandler = (node: XmlNode, cx: WriteContext) => Promise<OutNode[] | void>;

/** The actions one top-level request tag supports; a missing action answers code 5 (InvalidAction). */
export interface EntityHandlers {
  FIND?: ReadHandler;
  GET?: ReadHandler;
  SET?: WriteHandler;
  DELETE?: WriteHandler;
}
