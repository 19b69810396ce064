import type { z } from 'zod';
import type { Deps } from '../../domain/context.js';
import type { Actor } from '../../domain/model/actors.js';
import type { TaggedRead } from '../../domain/frozen.js';
import type { DocumentedError } from './errors.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

/**
 * Bearer tokens that guard routes, each with the OpenAPI security schemes that document it (any one
 * of them will do): `admin`, the admin token alone (cities, films, operators); `manager`, the admin
 * token or an operator's API key (an operator's own cinemas and what is in them); `serviceKey`, the
 * payment service's key for its routes.
 */
export const GUARDS = {
  admin: { schemes: ['adminToken'] },
  manager: { schemes: ['adminToken', 'operatorKey'] },
  serviceKey: { schemes: ['paymentServiceKey'] },
} as const;
export type Guard = keyof typeof GUARDS;

/**
 * `actor`: who sent the request, on a guarded route or an operator-scoped read that named itself.
 * `client`: the client's address as the rate limits count it (through trusted proxies; IPv6 by its /64).
 */
export type RouteInput<P, Q, B, H = undefined> = {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  headers: Out<H>;
  actor: Actor;
  client: string;
};

/**
 * The handler's input with its client address worked out only when the handler reads it: the order
 * submission does, the reads of every visitor never do (proxy-addr on each of them is waste).
 */
export const withClient = <T extends object>(input: T, client: () => string): T & { client: string } =>
  Object.defineProperty(input, 'client', { get: client, enumerable: true }) as T & { client: string };

/**
 * A handler returns a Reply when its status depends on the outcome (202 queued, 200 decided) or when
 * the answer carries headers (an entity tag, where to poll and when).
 */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** What a `tagged` answer documents: its ETag. */
export const taggedHeaders = {
  200: { ETag: 'Changes whenever the answer does; If-None-Match with it is answered 304 while nothing changed' },
};

/**
 * An answer read through a cache, with its tag as the ETag: a request whose If-None-Match names the
 * tag is answered 304 with no body (api/http/respond.ts).
 */
export const tagged = (read: TaggedRead<unknown>, status = 200) =>
  new Reply(status, read.value, { etag: `"${read.tag}"` });

/** What a handler returned, as the status and body to answer with. */
export const replyOf = (route: Route, result: unknown): Reply =>
  result instanceof Reply ? result : new Reply(route.status ?? 200, result);

/**
 * One declaration per endpoint: the zod schemas validate the request, describe it in OpenAPI,
 * and type the handler; the handler calls one use case and returns what to present.
 */
export type Route<
  P extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  B extends Schema | undefined = Schema | undefined,
  H extends Schema | undefined = Schema | undefined,
  R = unknown,
> = {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** The bearer token the route needs, if any (see GUARDS). */
  guard?: Guard;
  /**
   * A public read that an operator's API key, when sent, narrows to the operator's own cinemas (the
   * admin token or no token: everything). The handler's `actor` is then undefined without a token.
   */
  operatorView?: true;
  /** Reached with an order's access token (Authorization: Bearer, or ?token=): documented as its security. */
  orderToken?: true;
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the route reads (lower-case names); other headers are ignored. */
  headers?: H;
  /** The success body; documents the route and lets tests check real responses against it. */
  response?: Schema;
  status?: 200 | 201 | 202 | 204;
  /** Other success statuses the handler may answer with through a Reply. */
  alsoStatus?: (200 | 201 | 202)[];
  /**
   * The table of the success answer as CSV, for a client whose Accept prefers text/csv
   * (api/http/respond.ts; documented beside the JSON).
   */
  csv?: (answer: R) => CsvTable;
  /** Headers a success answer carries, by status: name → what it says (for the documentation). */
  responseHeaders?: Partial<Record<200 | 201 | 202, Record<string, string>>>;
  /** Codes this route can answer with, for the documentation. */
  errors?: DocumentedError[];
  /**
   * Served in front of express when the request is plain (see api/http/fast-path.ts): for the
   * requests every purchase and every visitor make. Only for GET and POST routes without a guard or an operator view.
   */
  fastPath?: true;
  handler: (input: RouteInput<P, Q, B, H>, deps: Deps) => Promise<R>;
};

/** A table an answer is sent as when CSV is asked for: its rows, their columns in order, a file name. */
export type CsvTable = { rows: Record<string, unknown>[]; columns: string[]; filename: string };

export function defineRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  H extends Schema | undefined = undefined,
  R = unknown,
>(route: Route<P, Q, B, H, R>): Route {
  return route as unknown as Route;
}
