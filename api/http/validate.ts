import type { RequestHandler } from 'express';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';

const PARTS = ['params', 'query', 'headers', 'body'] as const;
type Part = (typeof PARTS)[number];
const noQuery = z.strictObject({});

export type RequestParts = Partial<Record<Part, unknown>>;

/**
 * Parses params, query, headers and body with the route's zod schemas. Every problem in every part is
 * reported at once, so a client fixes them in one go.
 */
export function parseInput(schemas: Partial<Record<Part, z.ZodType>>, request: RequestParts): RequestParts {
  const input: RequestParts = {};
  const problems: { in: Part; path: string; message: string }[] = [];
  for (const part of PARTS) {
    const schema = schemas[part] ?? (part === 'query' ? noQuery : undefined);
    if (!schema) continue;
    const result = schema.safeParse(request[part] ?? (part === 'body' ? {} : undefined));
    if (result.success) input[part] = result.data;
    else
      problems.push(
        ...result.error.issues.map((issue) => ({ in: part, path: issue.path.join('.'), message: issue.message })),
      );
  }
  if (problems.length > 0) throw new DomainError('VALIDATION_FAILED', 'The request is not valid', problems);
  return input;
}

/** parseInput as express middleware: the parsed values go to res.locals.input. */
export function validate(schemas: Partial<Record<Part, z.ZodType>>): RequestHandler {
  return (req, res, next) => {
    res.locals.input = parseInput(schemas, req);
    next();
  };
}

/**
 * A body sent as anything but JSON (text/plain, a form, XML) is refused as such, 415, instead of
 * being read as no body and every field reported missing. Bodies of any JSON type pass
 * (application/json, application/*+json); a request without a body is not concerned.
 */
export const refuseNonJsonBodies: RequestHandler = (req, _res, next) => {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON, with Content-Type: application/json');
  }
  next();
};
