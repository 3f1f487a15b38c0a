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
