import type { Request } from 'express';
import type { z } from 'zod';
import type { Deps } from '../../domain/context.js';
import type { ErrorCode } from '../../domain/errors.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export type RouteInput<P, Q, B> = { params: Out<P>; query: Out<Q>; body: Out<B>; req: Request };

/**
 * One declaration per endpoint: the zod schemas validate the request, describe it in OpenAPI,
 * and type the handler; the handler calls one use case and returns what to present.
 */
export type Route<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> = {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** Writes need the admin bearer token. */
  admin?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** The success body; documents the route and lets tests check real responses against it. */
  response?: Schema;
  status?: 200 | 201 | 202 | 204;
  /** Codes this route can answer with, for the documentation. */
  errors?: ErrorCode[];
  handler: (input: RouteInput<P, Q, B>, deps: Deps) => Promise<unknown>;
};

export function defineRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  route: Route<P, Q, B>,
): Route {
  return route as unknown as Route;
}
