import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { consoleSessionRoutes } from './session.routes.js';
import { consoleCustomerRoutes } from './customers.routes.js';
import { consoleUserRoutes } from './users.routes.js';
import { consoleRequestRoutes } from './requests.routes.js';
import { consoleServiceRoutes } from './services.routes.js';
import { consoleApprovalRoutes } from './approvals.routes.js';

/** The console's JSON API (docs/console-api.md): session cookie or Basic auth, one error shape. */
export async function consoleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(cookie);
  consoleSessionRoutes(app, ctx);
  consoleCustomerRoutes(app, ctx);
  consoleUserRoutes(app, ctx);
  consoleRequestRoutes(app, ctx);
  consoleServiceRoutes(app, ctx);
  consoleApprovalRoutes(app, ctx);
}
