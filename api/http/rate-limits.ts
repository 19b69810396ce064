import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';
import { DomainError } from '../../domain/errors.js';
import type { Logger, RateCounter } from '../../domain/ports.js';
import { warnThrottled } from '../../domain/throttled-log.js';
import { API_BASE } from './base.js';
import { errorResponse } from './errors.js';
import { labelRoute } from './route-label.js';
import type { Route } from './route.js';

/** The limits a process enforces (RATE_LIMIT_*); an absent one is off. */
export type RateLimits = {
  /** Every request of a client address, but the probes', the scrapes' and order submissions. */
  perIp?: RateCounter;
  /** Order submissions of a client address (counted here instead of perIp). */
  ordersPerIp?: RateCounter;
  /** Order submissions naming one customer email. */
  ordersPerEmail?: RateCounter;
};

/** What a refusal's details name as the limit reached. */
type LimitScope = 'ip' | 'orders-per-ip' | 'orders-per-email';

/** Never limited: the orchestrator's probes and Prometheus's scrapes (nginx keeps them off the public entry). */
const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Order submission, limited more strictly: per client address and per customer email. */
const ORDER_SUBMISSION = { method: 'post', path: '/orders' } as const;
const ORDER_SUBMISSION_PATH = `${API_BASE}${ORDER_SUBMISSION.path}`;

type Trust = (address: string, hop: number) => boolean;

/**
 * The client's address as express's `req.ip` gives it (proxy-addr with the app's compiled `trust
 * proxy`), for the fast path and express alike; an IPv6 client by its /64, the block one subscriber
 * is usually given (an IPv4-mapped address as the IPv4 one).
 */
export function clientAddressOf(trust: Trust): (req: IncomingMessage) => string {
  return (req) => addressBucket(proxyAddr(req, trust) ?? 'unknown');
}

export function addressBucket(address: string): string {
  if (isIPv4(address) || !ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${prefix.map((part) => part.toString(16)).join(':')}::/64`;
}

/** The answer to a request over a limit: 429 with Retry-After, and the limit in the details. */
function rateLimited(scope: LimitScope, counter: RateCounter, retryAfterMs: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new DomainError('RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s`, {
    scope,
    limit: counter.limit,
    windowSeconds: counter.windowSeconds,
    retryAfterSeconds,
  });
}

/**
 * One hit on a counter: the refusal when the key is over its limit. A store that cannot answer
 * lets the request through (fail open: a Redis outage must not stop sales), with one warning per
 * few seconds.
 */
async function refusalOf(counter: RateCounter, key: string, scope: LimitScope, log: Logger) {
  try {
    const { allowed, retryAfterMs } = await counter.hit(key);
    return allowed ? undefined : rateLimited(scope, counter, retryAfterMs);
  } catch (error) {
    warnThrottled(
      log,
      'rate-limits',
      { reason: (error as Error).message },
      'rate limits not enforced: their Redis cannot answer',
    );
    return undefined;
  }
}

/** True for a request bearing this secret (internal callers: the workers calling the payment simulator). */
function bearing(secret: string): (req: IncomingMessage) => boolean {
  const expected = Buffer.from(`Bearer ${secret}`);
  return ({ headers: { authorization } }) => {
    const given = Buffer.from(authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}

export type LimitOptions = {
  /** express's compiled `trust proxy` (`app.get('trust proxy fn')`). */
  trust: Trust;
  /** Requests bearing this key are internal calls, never limited (PAYMENT_SERVICE_KEY). */
  internalKey: string;
  log: Logger;
};

/**
 * In front of the fast path and express (api/app.ts), behind the front door: counts each request
 * against its client address's limit, an order submission against the stricter limit of orders
 * instead; answers 429 RATE_LIMITED with Retry-After, or serves the request. `/healthz`, `/readyz`,
 * `/metrics` and internal calls are never counted.
 */
export function limitRequests(
  { perIp, ordersPerIp }: RateLimits,
  { trust, internalKey, log }: LimitOptions,
  serve: RequestListener,
): RequestListener {
  if (!perIp && !ordersPerIp) return serve;
  const clientOf = clientAddressOf(trust);
  const internal = bearing(internalKey);
  return (req, res) => {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (UNLIMITED_PATHS.has(path) || internal(req)) {
      serve(req, res);
      return;
    }
    // express routes /orders/ as /orders (non-strict routing), and /ORDERS too (case-insensitive): all are submissions.
    const submission = req.method === 'POST' && path.toLowerCase().replace(/\/$/, '') === ORDER_SUBMISSION_PATH;
    // One count per request: an order submission's under the stricter limit of orders, any other
    // request's under the client's limit (each count is ~30 µs of CPU here: docs/decisions/006).
    const [counter, scope] =
      submission && ordersPerIp ? [ordersPerIp, 'orders-per-ip' as const] : [perIp, 'ip' as const];
    if (!counter) {
      serve(req, res);
      return;
    }
    refusalOf(counter, clientOf(req), scope, log)
      .then((refusal) => {
        if (!refusal) return serve(req, res);
        if (submission) labelRoute(req, ORDER_SUBMISSION_PATH);
        refuse(req, res, refusal, log);
      })
      .catch((error: unknown) => {
        log.error({ err: error, method: req.method, url: req.url }, 'rate limits could not answer');
        res.destroy();
      });
  };
}

function refuse(req: IncomingMessage, res: ServerResponse, refusal: DomainError, log: Logger) {
  const { status, headers, body } = errorResponse(refusal, log, req);
  const bytes = Buffer.from(JSON.stringify(body));
  res
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': bytes.length,
    })
    .end(bytes);
}

/** A customer email as a counter's key: lower-cased, and hashed so no address is written to Redis. */
const emailKey = (email: string) => createHash('sha256').update(email.toLowerCase()).digest('base64url');

/**
 * The order submission route counting each valid order against its customer email's limit before
 * it is placed (on both paths: the fast path and express call the same handler); other routes as
 * they are. A replay of an idempotency key counts too.
 */
export function limitingOrdersPerEmail(routes: Route[], counter: RateCounter | undefined): Route[] {
  if (!counter) return routes;
  return routes.map((route) => {
    if (route.method !== ORDER_SUBMISSION.method || route.path !== ORDER_SUBMISSION.path) return route;
    return {
      ...route,
      handler: async (input, deps) => {
        const { email } = (input.body as { customer: { email: string } }).customer;
        const refusal = await refusalOf(counter, emailKey(email), 'orders-per-email', deps.log);
        if (refusal) throw refusal;
        return route.handler(input, deps);
      },
    };
  });
}
