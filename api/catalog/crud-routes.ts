import { z } from 'zod';
import type { Deps } from '../../domain/context.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { Actor } from '../../domain/model/actors.js';
import type { PageRequest } from '../../domain/pagination.js';
import { defineRoute, type Route } from '../http/route.js';
import { idParams, page, pageQuery, patchOf } from '../http/schemas.js';

/**
 * The five routes every catalog entity has: list, read, create, change, delete. Reads are public;
 * writes need the admin token, or (`managed`: cinemas and what is in them) an operator's key too,
 * whose reads then see only the operator's own objects. Relation routes are declared beside each entity.
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
  /** Operators manage their own objects of this kind (cinemas, halls, showings); otherwise the admin alone writes. */
  managed?: true;
  /** Codes a create or change can meet (foreign parent missing, name taken, ...). */
  writeErrors?: ErrorCode[];
  /** Codes a delete can meet (still referenced). */
  deleteErrors?: ErrorCode[];
  /** Method syntax on purpose: each entity's list takes the page plus its own filters. */
  list(deps: Deps, query: PageRequest, viewer?: Actor): Promise<unknown>;
  get: (deps: Deps, id: number, viewer?: Actor) => Promise<unknown>;
  create: (deps: Deps, actor: Actor, input: z.output<z.ZodObject<Fields>>) => Promise<unknown>;
  update: (deps: Deps, actor: Actor, id: number, changes: Partial<z.output<z.ZodObject<Fields>>>) => Promise<unknown>;
  remove: (deps: Deps, actor: Actor, id: number) => Promise<void>;
}): Route[] {
  const { tag, path, noun, notFound } = spec;
  const detail = spec.detail ?? spec.entity;
  const guard = spec.managed ? 'manager' : 'admin';
  const operatorView = spec.managed;
  return [
    defineRoute({
      method: 'get',
      path,
      tag,
      summary: `List ${tag.toLowerCase()}`,
      operatorView,
      query: z.strictObject({ ...pageQuery, ...(spec.filters ?? {}) }),
      response: page(spec.entity),
      errors: ['INVALID_CURSOR'],
      handler: ({ query, actor }, deps) => spec.list(deps, query as PageRequest, actor),
    }),
    defineRoute({
      method: 'post',
      path,
      tag,
      summary: `Create a ${noun}`,
      guard,
      body: z.strictObject(spec.fields),
      response: detail,
      status: 201,
      errors: spec.writeErrors,
      handler: ({ body, actor }, deps) => spec.create(deps, actor, body as never),
    }),
    defineRoute({
      method: 'get',
      path: `${path}/:id`,
      tag,
      summary: `Get a ${noun}`,
      operatorView,
      params: idParams,
      response: detail,
      errors: [notFound],
      handler: ({ params, actor }, deps) => spec.get(deps, params.id, actor),
    }),
    defineRoute({
      method: 'patch',
      path: `${path}/:id`,
      tag,
      summary: `Change a ${noun}`,
      guard,
      params: idParams,
      body: patchOf(spec.patchFields ?? spec.fields),
      response: detail,
      errors: [notFound, ...(spec.writeErrors ?? [])],
      handler: ({ params, body, actor }, deps) => spec.update(deps, actor, params.id, body as never),
    }),
    defineRoute({
      method: 'delete',
      path: `${path}/:id`,
      tag,
      summary: `Delete a ${noun}`,
      guard,
      params: idParams,
      status: 204,
      errors: [notFound, ...(spec.deleteErrors ?? [])],
      handler: ({ params, actor }, deps) => spec.remove(deps, actor, params.id),
    }),
  ];
}
