import { z } from 'zod';
import { statusOf } from './errors.js';
import { GUARDS, type Route } from './route.js';
import { errorBody } from './schemas.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query' | 'header') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input');
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/**
 * Alternatives, any one of which will do: `{}` (no credentials) first on an operator-scoped public
 * read, and none at all (`[]`) on a public route, said explicitly (Redocly's security-defined rule).
 */
function securityOf(route: Route): Record<string, never[]>[] {
  if (route.guard) return GUARDS[route.guard].schemes.map((scheme) => ({ [scheme]: [] }));
  if (route.operatorView) return [{}, { operatorKey: [] }];
  if (route.orderToken) return [{ orderAccessToken: [] }, { orderAccessTokenQuery: [] }];
  return [];
}

const errorResponse = {
  description: 'Error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/** 429 and 503 say when to come back. */
const retryLater = {
  ...errorResponse,
  headers: {
    'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'string' } },
  },
};

/** OpenAPI 3.1 built from the very schemas that validate requests, so the two cannot drift apart. */
export function buildOpenApi(routes: Route[], basePath: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = basePath + route.path.replace(/:(\w+)/g, '{$1}');
    const status = route.status ?? 200;
    const security = securityOf(route);
    // 503: every route reads or writes a store, and answers so (with Retry-After) while one is away;
    // 429: every route counts against its client's rate limit (api/http/rate-limits.ts).
    const errorStatuses = new Set([
      400,
      ...(route.guard ? [401, 403] : []),
      ...(route.operatorView ? [404] : []),
      ...(route.errors ?? []).map(statusOf),
      429,
      503,
    ]);
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: `${route.method}${path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      security,
      parameters: [
        ...parameters(route.params, 'path'),
        ...parameters(route.query, 'query'),
        ...parameters(route.headers, 'header'),
      ],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses: {
        ...Object.fromEntries(
          [status, ...(route.alsoStatus ?? [])].map((code) => [
            code,
            {
              description: 'Success',
              ...(code !== 204 && route.responseHeaders?.[code]
                ? {
                    headers: Object.fromEntries(
                      Object.entries(route.responseHeaders[code]).map(([name, description]) => [
                        name,
                        { description, schema: { type: 'string' } },
                      ]),
                    ),
                  }
                : {}),
              ...(route.response && code !== 204
                ? {
                    content: {
                      'application/json': { schema: jsonSchema(route.response, 'output') },
                      ...(route.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
                    },
                  }
                : {}),
            },
          ]),
        ),
        // A read with an entity tag answers If-None-Match naming it with 304 (api/http/respond.ts).
        ...(route.method === 'get' && route.responseHeaders?.[200]?.ETag
          ? { 304: { description: 'Not Modified: the answer the If-None-Match names is still current' } }
          : {}),
        ...Object.fromEntries(
          [...errorStatuses].sort().map((code) => [code, code === 429 || code === 503 ? retryLater : errorResponse]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cinema booking API',
      version: '1.0.0',
      description: 'Cities, cinemas, halls with seat layouts, films, showings, schedule. Errors carry a stable `code`.',
      license: { name: 'Proprietary' },
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBody, 'output') },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN of the deployment (platform admin)' },
        orderAccessToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The accessToken an order was placed with: reaches that order alone',
        },
        orderAccessTokenQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description: 'The same access token as ?token=, for a link (the ticket page)',
        },
        operatorKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            "An operator's API key (cop_...), issued by the admin: manages the operator's own cinemas, halls, showings and seat blocks; anything else answers 404",
        },
        paymentServiceKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'PAYMENT_SERVICE_KEY of the deployment (payment service)',
        },
      },
    },
  };
}
