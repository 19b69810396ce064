import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DomainError, type ErrorCode } from '../../domain/errors.js';
import type { Logger } from '../../domain/ports.js';
import { warnThrottled } from '../../domain/throttled-log.js';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  INVALID_CURSOR: 400,
  INVALID_LAYOUT: 400,
  PRICE_MISSING: 400,
  SHOWING_IN_PAST: 400,
  SEAT_NOT_IN_HALL: 400,
  DUPLICATE_SEATS: 400,
  TOO_MANY_SEATS: 400,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  CITY_NOT_FOUND: 404,
  CINEMA_NOT_FOUND: 404,
  HALL_NOT_FOUND: 404,
  FILM_NOT_FOUND: 404,
  SHOWING_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  CITY_NAME_TAKEN: 409,
  HALL_NAME_TAKEN: 409,
  CITY_HAS_CINEMAS: 409,
  CINEMA_HAS_HALLS: 409,
  HALL_HAS_SHOWINGS: 409,
  FILM_HAS_SHOWINGS: 409,
  SHOWING_HAS_TICKETS: 409,
  SHOWING_HAS_ORDERS: 409,
  SHOWING_OVERLAP: 409,
  SHOWING_NOT_ON_SALE: 409,
  SEAT_TAKEN: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  TICKET_NOT_IN_ORDER: 422,
  ORDER_NOT_CANCELLABLE: 409,
  ORDER_NOT_PAYABLE: 409,
  CANCELLATION_CLOSED: 409,
  SHOWING_ALREADY_CANCELLED: 409,
  SEAT_BLOCKED: 409,
  BLOCK_NOT_FOUND: 404,
  NO_SEATS_TOGETHER: 409,
  NOT_ENOUGH_SEATS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  OPERATOR_NOT_FOUND: 404,
  OPERATOR_NAME_TAKEN: 409,
  OPERATOR_HAS_CINEMAS: 409,
  API_KEY_NOT_FOUND: 404,
  API_KEY_REVOKED: 401,
  API_KEY_ALREADY_REVOKED: 409,
};

/**
 * An expected failure of a system served beside the booking API (the payment simulator) that
 * names its own status: that system keeps its own codes, and the booking domain does not know them.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A code a route documents: one of the domain's, or another system's with its status. */
export type DocumentedError = ErrorCode | { code: string; status: number };

export function statusOf(error: DocumentedError): number {
  return typeof error === 'string' ? STATUS_BY_CODE[error] : error.status;
}

export const routeNotFound: RequestHandler = (req) => {
  throw new DomainError('ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}`);
};

/** Seconds a client is asked to wait before trying again while a store is away. */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Failures that mean a store (PostgreSQL, Redis) cannot be reached or used, as opposed to a bug, as
 * the drivers report them: socket errors; PostgreSQL's shutdown and connection classes (57P0x,
 * 08xxx), a missing database (3D000) and refused credentials (28xxx); knex's pool giving up; ioredis'
 * closed connection and exhausted retries; and our own refusal to queue a job while Redis is away
 * (infra/job-queues.ts). The one judge of it: requests answer 503, a starting process exits 69
 * (host/start-up.ts).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const UNAVAILABLE_NAMES = new Set(['KnexTimeoutError', 'MaxRetriesPerRequestError']);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|Connection is closed|not queryable|Reached the max retries|Redis is (connecting|reconnecting|wait|close|end)/;

export function isStoreUnavailable(error: unknown): boolean {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^(57P0[123]|08...|3D000|28...)$/.test(code))) {
    return true;
  }
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/** PostgreSQL's query_canceled: here, a statement past DB_STATEMENT_TIMEOUT_MS. */
const STATEMENT_TIMED_OUT = '57014';

export type ErrorAnswer = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * The one place errors become responses: known codes get their status; a store that is away gets
 * 503 with Retry-After (and one log line per few seconds, not a stack trace per request); anything
 * else a logged 500.
 */
export function errorResponse(error: unknown, log: Logger, request: { method?: string; url?: string }): ErrorAnswer {
  const known = error instanceof HttpError ? error : asDomainError(error);
  if (known) {
    const status = known instanceof HttpError ? known.status : statusOf(known.code);
    const body = { error: { code: known.code, message: known.message, details: known.details } };
    // A refusal that says when to come back (RATE_LIMITED) says it in Retry-After too.
    const retryAfter = (known.details as { retryAfterSeconds?: unknown } | null | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number') return { status, headers: { 'retry-after': String(retryAfter) }, body };
    return { status, body };
  }
  if ((error as { code?: unknown } | null)?.code === STATEMENT_TIMED_OUT) {
    warnThrottled(log, 'statement-timeout', { url: request.url }, 'requests refused: a statement ran out of time');
    return {
      status: 503,
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'The request took too long; try again shortly' } },
    };
  }
  if (isStoreUnavailable(error)) {
    warnThrottled(log, 'store-unavailable', { reason: (error as Error).message }, 'requests refused: a store is away');
    return {
      status: 503,
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'Temporarily unavailable; try again shortly' } },
    };
  }
  log.error({ err: error, method: request.method, url: request.url }, 'unhandled error');
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal server error' } } };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const { status, body, headers } = errorResponse(error, log, { method: req.method, url: req.originalUrl });
    res
      .status(status)
      .set(headers ?? {})
      .json(body);
  };
}

/** body-parser reports its refusals as errors with a `type`; they are the client's mistakes. */
function asDomainError(error: unknown): DomainError | null {
  if (error instanceof DomainError) return error;
  const type = (error as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new DomainError('MALFORMED_JSON', 'The request body is not valid JSON');
  if (type === 'entity.too.large') return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 JSON');
  }
  // The router could not percent-decode a path parameter (say /cities/%ZZ).
  if (error instanceof URIError) {
    return new DomainError('VALIDATION_FAILED', 'The request is not valid', [
      { in: 'params', path: '', message: 'not valid percent-encoding' },
    ]);
  }
  // Any other body-parser refusal: a body not compressed as its Content-Encoding says, a length
  // other than its Content-Length. The client sent a body that cannot be read.
  const { status, expose } = (error ?? {}) as { status?: number; expose?: boolean };
  if (status === 400 && expose === true) return new DomainError('MALFORMED_JSON', 'The request body could not be read');
  return null;
}
