import type { RequestListener } from 'node:http';
import express from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Deps } from '../domain/context.js';
import { API_BASE } from './http/base.js';
import { errorHandler, routeNotFound } from './http/errors.js';
import { fastPathFor, JSON_BODY_LIMIT } from './http/fast-path.js';
import { routerFor } from './http/mount.js';
import { buildOpenApi } from './http/openapi.js';
import type { Route } from './http/route.js';

/**
 * The HTTP application of a process, without listen(): tests start it in-process. Fast-path routes
 * are tried first (api/http/fast-path.ts), then express.
 */
export function createApp(
  deps: Deps,
  routes: Route[],
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>,
): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // No ETags: API answers change with every sale, and hashing each body costs CPU on the hot path.
  app.set('etag', false);
  app.use(express.json({ limit: JSON_BODY_LIMIT }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const state = await readiness();
    res.status(state.ready ? 200 : 503).json(state);
  });

  const openApi = buildOpenApi(routes, API_BASE);
  app.get(`${API_BASE}/openapi.json`, (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi));

  app.use(API_BASE, routerFor(routes, deps));
  app.use(routeNotFound);
  app.use(errorHandler(deps.log));
  const fastPath = fastPathFor(routes, deps, API_BASE);
  return (req, res) => {
    if (!fastPath(req, res)) app(req, res);
  };
}
