import type { EntityHandlers } from './types.js';
import { customerHandlers } from './customer.js';
import { globalHandlers, identityHandlers } from './identity.js';
import { locationHandlers } from './location.js';
import { requestHandlers } from './request.js';
import { reportHandlers } from './report.js';
import { approvalHandlers } from './approvals.js';

export type { EntityHandlers, ReadContext, ReadHandler, WriteContext, WriteHandler, WriteOutcome } from './types.js';

/**
 * The handler registry: top-level tag inside <request> → its actions. Tags not listed here are
 * ignored, as the seed says of unknown names. Add an entity with one line.
 */
export const HANDLERS: Readonly<Record<string, EntityHandlers>> = {
  customer: customerHandlers,
  identity: identityHandlers,
  global: globalHandlers,
  location: locationHandlers,
  request: requestHandlers,
  report: reportHandlers,
  approval: approvalHandlers,
};
