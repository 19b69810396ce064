import { z } from 'zod';
import type { Deps } from '../../domain/context.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { PageRequest } from '../../domain/pagination.js';
import { defineRoute, type Route } from '../http/route.js';
import { idParams, page, pageQuery, patchOf } from '../http/schemas.js';

type Use<I, O = unknown> = (deps: Deps, input: I) => Promise<O>;

/**
 * The five routes every catalog entity has: list, read, create, change, delete. Reads are public;
 * writes need the admin token. Entity-specific relation routes are declared beside each entity.
 */
export function crudRoutes<Fields extends z.ZodRawShape, Filters extends z.ZodRawShape = Record<never, never>>(spec: {
  tag: string;
  path: string;
  noun: string;
  entity: z.ZodType;
  /** What GET /:id answers with, when richer than a list item (a hall with its layout). */
  detail?: z.ZodType;
  fields: Fields;
  /** The fields PATCH accepts, when not all of them may change. */
  patchFields?: z.ZodRawShape;
  filters?: Filters;
  notFound: ErrorCode;
  /** Codes a create or change can meet (foreign parent missing, name taken, ...). */
  writeErrors?: ErrorCode[];
  /** Codes a delete can meet (still referenced). */
  deleteErrors?: ErrorCode[];
  /** Method syntax on purpose: each entity's list takes the page plus its own filters. */
  list(deps: Deps, query: PageRequest): Promise<unknown>;
  get: (deps: Deps, id: number) => Promise<unknown>;
  create: Use<z.output<z.ZodObject<Fields>>>;
  update: (deps: Deps, id: number, changes: Partial<z.output<z.ZodObject<Fields>>>) => Promise<unknown>;
  remove: (deps: Deps, id: number) => Promise<void>;
}): Route[] {
  const { tag, path, noun, notFound } = spec;
  const detail = spec.detail ?? spec.entity;
  return [
    defineRoute({
      method: 'get',
      path,
      tag,
      summary: `List ${tag.toLowerCase()}`,
      query: z.strictObject({ ...pageQuery, ...(spec.filters ?? {}) }),
      response: page(spec.entity),
      errors: ['INVALID_CURSOR'],
      handler: ({ query }, deps) => spec.list(deps, query as PageRequest),
    }),
    defineRoute({
      method: 'post',
      path,
      tag,
      summary: `Create a ${noun}`,
      guard: 'admin',
      body: z.strictObject(spec.fields),
      response: detail,
      status: 201,
      errors: spec.writeErrors,
      handler: ({ body }, deps) => spec.create(deps, body as never),
    }),
    defineRoute({
      method: 'get',
      path: `${path}/:id`,
      tag,
      summary: `Get a ${noun}`,
      params: idParams,
      response: detail,
      errors: [notFound],
      handler: ({ params }, deps) => spec.get(deps, params.id),
    }),
    defineRoute({
      method: 'patch',
      path: `${path}/:id`,
      tag,
      summary: `Change a ${noun}`,
      guard: 'admin',
      params: idParams,
      body: patchOf(spec.patchFields ?? spec.fields),
      response: detail,
      errors: [notFound, ...(spec.writeErrors ?? [])],
      handler: ({ params, body }, deps) => spec.update(deps, params.id, body as never),
    }),
    defineRoute({
      method: 'delete',
      path: `${path}/:id`,
      tag,
      summary: `Delete a ${noun}`,
      guard: 'admin',
      params: idParams,
      status: 204,
      errors: [notFound, ...(spec.deleteErrors ?? [])],
      handler: ({ params }, deps) => spec.remove(deps, params.id),
    }),
  ];
}
