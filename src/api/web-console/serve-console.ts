import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../server.js';
import { CONSOLE_DIST } from './bundle-report.js';

/** Paths that belong to the APIs: an unknown one keeps the API's own 404, never the console page. */
const API_PATHS = /^\/(api|cortexapi|healthz|metrics)(\/|\?|$)/i;
/** A path with a file extension is a missing asset, not a console page. */
const FILE_PATH = /\/[^/?]*\.[a-z0-9]+(\?|$)/i;

/**
 * Serves the web console (web/dist) at / from the API server: hashed assets cached for a year,
 * index.html never cached, and every other GET page path (a deep link such as /customers/42)
 * answered with index.html so the browser's router shows it.
 */
export function consoleAppRoutes(dist = CONSOLE_DIST): RouteModule {
  return async (app: FastifyInstance) => {
    const index = path.join(dist, 'index.html');
    if (!fs.existsSync(index)) {
      app.log.warn(`the web console is not built (${index} is missing): run "npm run build:web"`);
      app.register(async (scope) => scope.get('/*', (req, reply) => notBuilt(req, reply)));
      return;
    }
    const html = fs.readFileSync(index);
    await app.register(async (scope) => {
      await scope.register(fastifyStatic, {
        root: dist,
        wildcard: false,
        index: false,
        cacheControl: false,
        globIgnore: ['index.html', 'build-report.json'],
        setHeaders: (res, file) => {
          if (file.includes(`${path.sep}assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        },
      });
      scope.get('/*', (req, reply) => {
        if (API_PATHS.test(req.url) || FILE_PATH.test(req.url)) return reply.callNotFound();
        return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(html);
      });
    });
  };
}

function notBuilt(req: FastifyRequest, reply: FastifyReply) {
  if (API_PATHS.test(req.url)) return reply.callNotFound();
  return reply
    .code(503)
    .type('text/plain; charset=utf-8')
    .send('The web console is not built. Run "npm run build:web" (npm ci does it), then restart Tenantry.\n');
}
