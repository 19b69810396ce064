import type { RequestListener } from 'node:http';
import express, { type RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Deps } from '../domain/context.js';
import { browserLogin, requireBearer } from './http/auth.js';
import { API_BASE } from './http/base.js';
import { errorHandler, routeNotFound } from './http/errors.js';
import { fastPathFor, JSON_BODY_LIMIT } from './http/fast-path.js';
import { documentSecurity, frontDoor } from './http/front-door.js';
import { routerFor } from './http/mount.js';
import { refuseNonJsonBodies } from './http/validate.js';
import { buildOpenApi } from './http/openapi.js';
import { clientAddressOf, limitingOrdersPerEmail, limitRequests, type RateLimits } from './http/rate-limits.js';
import type { Route } from './http/route.js';
import { labelRoute } from './http/route-label.js';

/** Where the queue dashboard is served (nginx sends it to the catalog upstream). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** What a process serves beside its routes, as its host configured it. */
export type HttpSurface = {
  /** GET /metrics (Prometheus text); without it metrics are off (METRICS=false) and /metrics is a 404. */
  metrics?: { contentType: string; render(): Promise<string> };
  /** One log line per request (ACCESS_LOG). */
  accessLog?: boolean;
  /** Origins whose browser pages may call the API (CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  /** Which proxies' X-Forwarded-* express believes (TRUST_PROXY): where nginx runs. */
  trustProxy?: string;
  /** The queue dashboard (bull-board), served at QUEUE_DASHBOARD_PATH behind the admin token. */
  queueDashboard?: RequestHandler;
  /**
   * What /docs and /api/v1/openapi.json describe when it is more than this process serves: behind
   * the entry, the whole booking API (a catalog instance answers /docs for the orders routes too).
   */
  documentedRoutes?: Route[];
  /**
   * Rate limits counted in Redis across every instance (RATE_LIMIT_*, api/http/rate-limits.ts): on
   * both paths, after the front door; none without it.
   */
  rateLimits?: RateLimits;
};

/** A fixed route's handlers, after the one that names it for the metrics and the access log. */
const named =
  (pattern: string): RequestHandler =>
  (req, _res, next) => {
    labelRoute(req, pattern);
    next();
  };

/**
 * The HTTP application of a process, without listen(): tests start it in-process. Every request
 * passes the front door (request id, security headers, CORS, metrics, access log:
 * api/http/front-door.ts), then the rate limits (api/http/rate-limits.ts), then fast-path routes are
 * tried (api/http/fast-path.ts), then express.
 */
export function createApp(
  deps: Deps,
  routes: Route[],
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>,
  surface: HttpSurface = {},
): RequestListener {
  const limits = surface.rateLimits ?? {};
  const served = limitingOrdersPerEmail(routes, limits.ordersPerEmail);
  const app = express();
  app.disable('x-powered-by');
  if (surface.trustProxy) app.set('trust proxy', surface.trustProxy);
  app.set('query parser', 'simple');
  // The proxies keep /metrics, /healthz and /readyz off the public entry by exact path: /METRICS must
  // not reach them through a case-insensitive match here.
  app.set('case sensitive routing', true);
  // No ETags: API answers change with every sale, and hashing each body costs CPU on the hot path.
  app.set('etag', false);
  app.use(express.json({ limit: JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] }));

  app.get('/healthz', named('/healthz'), (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', named('/readyz'), async (_req, res) => {
    const state = await readiness();
    res.status(state.ready ? 200 : 503).json(state);
  });
  const { metrics } = surface;
  if (metrics) {
    app.get('/metrics', named('/metrics'), async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.render());
    });
  }

  const openApi = buildOpenApi(surface.documentedRoutes ?? routes, API_BASE);
  app.get(`${API_BASE}/openapi.json`, named(`${API_BASE}/openapi.json`), (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', named('/docs'), documentSecurity, swaggerUi.serve, swaggerUi.setup(openApi));
  if (surface.queueDashboard) {
    app.use(
      QUEUE_DASHBOARD_PATH,
      named(QUEUE_DASHBOARD_PATH),
      browserLogin('queue dashboard'),
      requireBearer(deps.config.ADMIN_TOKEN, 'admin token'),
      documentSecurity,
      surface.queueDashboard,
    );
  }

  app.use(API_BASE, refuseNonJsonBodies, routerFor(served, deps, API_BASE));
  app.use(routeNotFound);
  app.use(errorHandler(deps.log));
  const fastPath = fastPathFor(served, deps, API_BASE, clientAddressOf(app.get('trust proxy fn')));
  return frontDoor(
    deps,
    { corsOrigins: surface.corsOrigins ?? [], accessLog: surface.accessLog ?? false, metrics: metrics !== undefined },
    limitRequests(
      limits,
      { trust: app.get('trust proxy fn'), internalKey: deps.config.PAYMENT_SERVICE_KEY, log: deps.log },
      (req, res) => {
        if (!fastPath(req, res)) app(req, res);
      },
    ),
  );
}
