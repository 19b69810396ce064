import { z } from 'zod';
import { listAuditEntries } from '../../domain/operators/audit-log.js';
import { issueApiKey, listApiKeys, revokeApiKey, rotateApiKey } from '../../domain/operators/api-keys.js';
import {
  createOperator,
  deleteOperator,
  getOperator,
  listOperators,
  updateOperator,
} from '../../domain/operators/operators.js';
import { defineRoute, type Route } from '../http/route.js';
import { id, idParams, isoTimestamp, page, pageQuery, patchOf, text } from '../http/schemas.js';

const operatorFields = { name: text(1, 200) };
const operator = z.object({ id: z.number(), name: z.string(), createdAt: isoTimestamp, updatedAt: isoTimestamp });

const apiKey = z.object({
  id: z.number(),
  operatorId: z.number(),
  label: z.string(),
  createdAt: isoTimestamp,
  lastUsedAt: isoTimestamp.nullable().describe('The latest request made with the key, to the minute'),
  revokedAt: isoTimestamp
    .nullable()
    .describe('From when the key is refused (in the future while a rotation leaves it a grace period)'),
  replacedBy: z.number().nullable().describe('The key that replaced it in a rotation'),
});
const issuedKey = apiKey.extend({
  key: z.string().describe('The whole key, shown this once: only its digest is kept. Send it as Authorization: Bearer'),
});
const keyParams = z.strictObject({ id, keyId: id });

const AUDITED_ENTITIES = [
  'operators',
  'operator_keys',
  'cities',
  'cinemas',
  'halls',
  'films',
  'showings',
  'seat_blocks',
] as const;

const auditEntry = z.object({
  id: z.number(),
  at: isoTimestamp,
  actor: z.string().describe('"admin", or "operator <id> (key <id>)"'),
  actorOperatorId: z.number().nullable(),
  actorKeyId: z.number().nullable(),
  request: z.string().nullable().describe('The request that made the change: method and path'),
  operatorId: z.number().nullable().describe('The operator owning what changed (null: the platform, a city, a film)'),
  entity: z.enum(AUDITED_ENTITIES),
  entityId: z.string().describe('The row id; "<showingId>/<seatId>" for a seat block'),
  action: z.enum(['insert', 'update', 'delete']),
  before: z.record(z.string(), z.unknown()).nullable().describe('The row before the change, as stored'),
  after: z.record(z.string(), z.unknown()).nullable().describe('The row after the change, as stored'),
});

export const operatorRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/operators',
    tag: 'Operators',
    summary: 'List operators (admin)',
    guard: 'admin',
    query: z.strictObject(pageQuery),
    response: page(operator),
    errors: ['INVALID_CURSOR'],
    handler: ({ query }, deps) => listOperators(deps, query),
  }),
  defineRoute({
    method: 'post',
    path: '/operators',
    tag: 'Operators',
    summary: 'Create an operator, who then gets API keys and creates its own cinemas (admin)',
    guard: 'admin',
    body: z.strictObject(operatorFields),
    status: 201,
    response: operator,
    errors: ['OPERATOR_NAME_TAKEN'],
    handler: ({ body, actor }, deps) => createOperator(deps, actor, body),
  }),
  defineRoute({
    method: 'get',
    path: '/operators/:id',
    tag: 'Operators',
    summary: 'Get an operator (admin, or the operator itself)',
    guard: 'manager',
    params: idParams,
    response: operator,
    errors: ['OPERATOR_NOT_FOUND'],
    handler: ({ params, actor }, deps) => getOperator(deps, actor, params.id),
  }),
  defineRoute({
    method: 'patch',
    path: '/operators/:id',
    tag: 'Operators',
    summary: 'Rename an operator (admin)',
    guard: 'admin',
    params: idParams,
    body: patchOf(operatorFields),
    response: operator,
    errors: ['OPERATOR_NOT_FOUND', 'OPERATOR_NAME_TAKEN'],
    handler: ({ params, body, actor }, deps) => updateOperator(deps, actor, params.id, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/operators/:id',
    tag: 'Operators',
    summary: 'Delete an operator and its keys, once it owns no cinema (admin)',
    guard: 'admin',
    params: idParams,
    status: 204,
    errors: ['OPERATOR_NOT_FOUND', 'OPERATOR_HAS_CINEMAS'],
    handler: ({ params, actor }, deps) => deleteOperator(deps, actor, params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/operators/:id/keys',
    tag: 'Operators',
    summary: "An operator's API keys, without their secrets (admin, or the operator itself)",
    guard: 'manager',
    params: idParams,
    query: z.strictObject(pageQuery),
    response: page(apiKey),
    errors: ['OPERATOR_NOT_FOUND', 'INVALID_CURSOR'],
    handler: ({ params, query, actor }, deps) => listApiKeys(deps, actor, params.id, query),
  }),
  defineRoute({
    method: 'post',
    path: '/operators/:id/keys',
    tag: 'Operators',
    summary: 'Issue an API key; the answer shows it once (admin, or the operator itself)',
    guard: 'manager',
    params: idParams,
    body: z.strictObject({ label: text(1, 100).describe('What the key is for: "box office", "ci"') }),
    status: 201,
    response: issuedKey,
    errors: ['OPERATOR_NOT_FOUND'],
    handler: ({ params, body, actor }, deps) => issueApiKey(deps, actor, params.id, body.label),
  }),
  defineRoute({
    method: 'post',
    path: '/operators/:id/keys/:keyId/revoke',
    tag: 'Operators',
    summary: 'Revoke an API key: refused from the next request on, on every instance (admin, or the operator itself)',
    guard: 'manager',
    params: keyParams,
    response: apiKey,
    errors: ['OPERATOR_NOT_FOUND', 'API_KEY_NOT_FOUND'],
    handler: ({ params, actor }, deps) => revokeApiKey(deps, actor, params.id, params.keyId),
  }),
  defineRoute({
    method: 'post',
    path: '/operators/:id/keys/:keyId/rotate',
    tag: 'Operators',
    summary:
      'Replace an API key by a new one (shown once); the old key keeps working for graceSeconds (admin, or the operator itself)',
    guard: 'manager',
    params: keyParams,
    body: z.strictObject({
      graceSeconds: z
        .number()
        .int()
        .min(0)
        .max(7 * 24 * 3600)
        .default(0)
        .describe('How long the old key still works: time to deploy the new one (0: it stops at once)'),
    }),
    status: 201,
    response: issuedKey.extend({ replaces: apiKey }),
    errors: ['OPERATOR_NOT_FOUND', 'API_KEY_NOT_FOUND', 'API_KEY_ALREADY_REVOKED'],
    handler: ({ params, body, actor }, deps) => rotateApiKey(deps, actor, params.id, params.keyId, body.graceSeconds),
  }),
  defineRoute({
    method: 'get',
    path: '/audit',
    tag: 'Operators',
    summary:
      'The append-only audit log of every write by the admin or an operator, oldest first (admin; an operator reads what happened to its own objects)',
    guard: 'manager',
    query: z.strictObject({
      ...pageQuery,
      operatorId: id.optional().describe('Only what happened to this operator and its cinemas'),
      entity: z.enum(AUDITED_ENTITIES).optional(),
      entityId: text(1, 50).optional().describe('The row id; "<showingId>/<seatId>" for a seat block'),
    }),
    response: page(auditEntry),
    errors: ['INVALID_CURSOR'],
    handler: ({ query, actor }, deps) => listAuditEntries(deps, actor, query),
  }),
];
