import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import cors, { type CorsOptions } from 'cors';
import helmet from 'helmet';
import type { Logger, Metrics } from '../../domain/ports.js';
import { routeOf } from './route-label.js';

/**
 * A client's X-Request-Id is kept when it is a plain token (nginx's `$request_id` is one); any other is
 * replaced. The proxies' configurations keep exactly the same ids (scripts/topology/nginx-config.ts,
 * deploy/compose/nginx.conf): an id the client holds must be the one in every log line.
 */
const PLAIN_TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestIdOf = (given: string | string[] | undefined): string =>
  typeof given === 'string' && PLAIN_TOKEN.test(given) ? given : randomUUID();

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** The headers a helmet middleware sets, recorded once: helmet's are the same for every request. */
function headersSetBy(middleware: Middleware): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => {},
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * helmet's headers that mean something on JSON answers (OWASP's REST Security Cheat Sheet): a CSP
 * that loads nothing and may not be framed, X-Frame-Options, nosniff, HSTS and a same-origin
 * resource policy. The others (COOP, Origin-Agent-Cluster, Referrer-Policy, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) only act on HTML
 * documents, and every header costs about 0.5 µs per answer; the documents get them all
 * (documentSecurity). Set on both paths, so the fast path answers with the same headers as express.
 */
export const API_SECURITY_HEADERS = headersSetBy(
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  }),
);

/**
 * helmet's defaults, for the HTML pages (the API documentation, the queue dashboard), without
 * upgrade-insecure-requests: where the entry serves plain HTTP it would stop their scripts loading.
 */
export const documentSecurity = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });

/** What a browser page of an allowed origin may send and read. The API takes bearer tokens, not cookies. */
const ALLOWED: CorsOptions = {
  origin: true,
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'Prefer', 'X-Request-Id'],
  exposedHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id'],
  maxAge: 600,
};

/** CORS for the allowed origins; any other origin gets no CORS header at all (and its preflight, a 404). */
function corsFor(origins: readonly string[]) {
  const allowed = new Set(origins.map((origin) => new URL(origin).origin));
  return cors<IncomingMessage>((req, decide) =>
    decide(null, allowed.has(req.headers.origin!) ? ALLOWED : { origin: false }),
  );
}

/** The status the metrics and the access log give an answer the client did not wait for (as nginx does). */
const CLIENT_CLOSED = 499;

/** Probes and scrapes, every few seconds from the orchestrator and Prometheus: measured, not logged. */
const UNLOGGED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export type FrontDoorOptions = {
  /** Origins whose browser pages may call the API; none when empty. */
  corsOrigins: readonly string[];
  /** One line per request (ACCESS_LOG). */
  accessLog: boolean;
  /** Each request in http_request_duration_seconds (METRICS). */
  metrics: boolean;
};

const STARTED = Symbol('started');
type Timed = ServerResponse & { [STARTED]: number };

/**
 * What every request goes through before the fast path or express takes it, so both answer alike:
 * its request id (the client's X-Request-Id when it is a plain token, else a new UUID; put back in
 * the request for the handlers and returned in the response), the security headers, CORS, and once
 * the answer is out, its duration in the metrics and its access-log line. An Origin header only
 * costs anything when CORS_ORIGINS names origins: the fast path stays open to browsers.
 */
export function frontDoor(
  { log, metrics }: { log: Logger; metrics: Metrics },
  options: FrontDoorOptions,
  serve: RequestListener,
): RequestListener {
  const allowOrigins = options.corsOrigins.length > 0 ? corsFor(options.corsOrigins) : undefined;

  // One function for every response (no closure per request); it finds its request on res.req.
  function answered(this: Timed) {
    const req = this.req;
    const seconds = (performance.now() - this[STARTED]) / 1000;
    const status = this.writableFinished ? this.statusCode : CLIENT_CLOSED;
    const route = routeOf(req);
    if (options.metrics) metrics.httpRequest(req.method!, route, status, seconds);
    if (options.accessLog && !UNLOGGED_ROUTES.has(route)) {
      const line = {
        requestId: req.headers['x-request-id'],
        method: req.method,
        route,
        status,
        responseTime: Math.round(seconds * 100_000) / 100,
      };
      if (status >= 500 && status !== CLIENT_CLOSED) log.warn(line, 'request failed');
      else log.info(line, status === CLIENT_CLOSED ? 'request aborted' : 'request completed');
    }
  }
  const timed = options.accessLog || options.metrics;

  return (req, res) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    for (const [name, value] of API_SECURITY_HEADERS) res.setHeader(name, value);
    if (timed) {
      (res as Timed)[STARTED] = performance.now();
      res.on('close', answered);
    }
    if (allowOrigins && req.headers.origin !== undefined) allowOrigins(req, res, () => serve(req, res));
    else serve(req, res);
  };
}
