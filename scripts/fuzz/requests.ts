import type { Random } from './random.js';
import { RawJson } from './values.js';

/**
 * What the fuzz cases are made of: the operations of the OpenAPI document, the fixtures they aim at,
 * and for one operation a valid request (real ids where the operation names an entity, values the
 * schemas accept elsewhere), as a draft the mutations (scripts/fuzz/mutations.ts) then change.
 */

/** The parts of JSON Schema (as zod writes it) the generator reads. */
export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

export type Parameter = {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
};

type OperationObject = {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
};

export type OpenApiDocument = { paths: Record<string, Record<string, OperationObject>> };

export type Operation = {
  /** "POST /api/v1/orders": the operation's name in every count. */
  key: string;
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
  /** The security scheme the operation needs, if any. */
  scheme?: string;
  /** The methods its path has, for the wrong-method cases. */
  pathMethods: string[];
};

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        body: operation.requestBody?.content['application/json']?.schema,
        // The deployment's secrets; an order's access token is the order's own (see orderAuth below).
        scheme: Object.keys(operation.security?.[0] ?? {}).find((scheme) => !scheme.startsWith('orderAccessToken')),
        pathMethods: Object.keys(methods).map((name) => name.toUpperCase()),
      });
    }
  }
  return operations;
}

export type Entity = 'city' | 'cinema' | 'hall' | 'film' | 'showing' | 'seat' | 'order' | 'charge' | 'operator' | 'key';

/** One set of real entities: ids, the hall's seats, the order's access token and tickets. */
export type EntitySet = {
  ids: Record<Entity, number | string>;
  seatIds: number[];
  orderToken: string;
  ticketIds: number[];
};

/** What exists before the first case: real entities to aim at, and what a valid request needs. */
export type Fixtures = {
  /** Aimed at by every route that neither deletes nor cancels. */
  main: EntitySet;
  /** Aimed at by the routes that delete or cancel, so that the main set stays in place. */
  spare: EntitySet;
  /** A charge's reference (GET /charges?reference=). */
  chargeReference: string;
  /** The calendar day of the main showing in its cinema's zone. */
  date: string;
  /** A real next-page cursor per list operation (by key). */
  cursors: Record<string, string>;
  /** Whole valid bodies per operation key, where the schema alone cannot make one (the payment behaviour). */
  bodies: Record<string, unknown>;
};

/** Security scheme name → its secret (adminToken, paymentServiceKey). */
export type Credentials = Record<string, string>;

/** A request ready to send, with what made it. */
export type FuzzCase = {
  seed: number;
  index: number;
  operation: string;
  kinds: string[];
  method: string;
  /** Path and query string, percent-encoded (or deliberately not). */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  chunked?: boolean;
  /** How long the answer may take. */
  budgetMs: number;
};

/** A case may take this long; a `Prefer: wait=N` adds the server's cap (MAX_DECISION_WAIT_SECONDS, 10 s). */
export const BUDGET_MS = 5_000;
const MAX_DECISION_WAIT_MS = 10_000;

/** Operations whose cases run alone, after all others, and whose effect is undone: they change the system for everyone. */
export const ISOLATED = new Set(['PUT /api/v1/payment-behaviour']);

export type Draft = {
  method: string;
  pathParams: Record<string, string>;
  /** Name and value, both already percent-encoded. */
  query: [string, string][];
  headers: Record<string, string | string[]>;
  hasBody: boolean;
  json?: unknown;
  raw?: string | Buffer;
  /** undefined: application/json when there is a body; null: no Content-Type at all. */
  contentType?: string | null;
  contentEncoding?: string;
  chunked?: boolean;
};

export type Context = {
  seed: number;
  random: Random;
  fixtures: Fixtures;
  set: EntitySet;
  op: Operation;
  credentials: Credentials;
  index: number;
  /** Build the largest request the schema allows: every field, every array at maxItems, every string at maxLength. */
  max?: boolean;
};

const ENTITY_BY_SEGMENT: Record<string, Entity> = {
  cities: 'city',
  cinemas: 'cinema',
  halls: 'hall',
  films: 'film',
  showings: 'showing',
  orders: 'order',
  charges: 'charge',
  operators: 'operator',
};
export const ENTITY_BY_FIELD: Record<string, Entity> = {
  cityId: 'city',
  cinemaId: 'cinema',
  hallId: 'hall',
  filmId: 'film',
  showingId: 'showing',
  seatId: 'seat',
  chargeId: 'charge',
  operatorId: 'operator',
  keyId: 'key',
};

export const isDestructive = (op: Operation) => op.method === 'DELETE' || op.path.endsWith('/cancel');

/** Percent-encodes any string, lone surrogates included (as the UTF-8 of U+FFFD, as a browser would). */
export function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...Buffer.from(text, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join('');
  }
}

/**
 * A header value Node will send: its UTF-8 bytes as Latin-1 characters, without the control
 * characters HTTP forbids there (CR, LF and NUL would end or corrupt the header: no client can send them).
 */
export function headerValue(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .filter(isHeaderByte)
    .map((byte) => String.fromCharCode(byte))
    .join('');
}

/** Tab, visible ASCII and bytes 0x80-0xff: what Node accepts in a header value. */
export const isHeaderByte = (byte: number) => byte === 0x09 || (byte >= 0x20 && byte !== 0x7f);

// ---------------------------------------------------------------------------------------------
// Valid requests

export function effective(schema: Schema, random?: Random): Schema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  const typed = branches.filter((branch) => branch.type !== 'null');
  return random && typed.length > 1 ? random.pick(typed) : (typed[0] ?? branches[0] ?? {});
}

export const typeOf = (schema: Schema): string | undefined => {
  const type = effective(schema).type;
  return Array.isArray(type) ? type.find((name) => name !== 'null') : type;
};

function futureInstant(random: Random): string {
  const at = new Date(Date.now() + random.int(3, 400) * 86_400_000 + random.int(0, 23) * 3_600_000);
  at.setUTCMinutes(random.pick([0, 15, 30, 45]), 0, 0);
  const iso = at.toISOString();
  return random.chance(0.5) ? iso : `${iso.slice(0, 19)}+03:00`;
}

/** The largest layout a hall may have: 2,000 seats (domain/layout.ts), as 200 rows of 10, 40 of 50 or 4 of 500. */
const largestLayout = (random: Random) => {
  const [rows, seats] = random.pick([
    [200, 10],
    [40, 50],
    [4, 500],
  ] as const);
  return {
    rows: Array.from({ length: rows }, (_, row) => ({
      label: `R${row + 1}`,
      seats: Array.from({ length: seats }, (_, at) => ({ number: at + 1 })),
    })),
  };
};

const smallLayout = () => ({
  rows: ['A', 'B'].map((label) => ({ label, seats: [1, 2, 3].map((number) => ({ number })) })),
});

/** A value for a body field that the schema alone cannot make valid: real ids, unique names, a layout. */
function bodyHint(name: string, parent: string, ctx: Context): unknown {
  const { random, set } = ctx;
  const entity = ENTITY_BY_FIELD[name];
  if (entity) return set.ids[entity];
  switch (name) {
    case 'seatIds':
      return random.sample(set.seatIds, ctx.max ? 10 : random.int(1, 3));
    case 'ticketIds':
      return set.ticketIds.length > 0 ? random.sample(set.ticketIds, 1) : [random.int(1, 1000)];
    case 'startsAt':
      return futureInstant(random);
    case 'name':
    case 'title': {
      const value = parent === 'customer' ? 'Fuzz Buyer' : `Fuzz ${random.hex(10)}`;
      return ctx.max ? value.padEnd(120, '映') : value;
    }
    case 'email':
      return `fuzz.${random.hex(8)}@example.com`;
    case 'token':
      return `tok_fuzz_${random.hex(6)}`;
    case 'timezone':
      return random.pick(['Europe/Moscow', 'UTC', 'Asia/Tokyo', 'America/New_York']);
    case 'currency':
      return 'RUB';
    case 'layout':
      return ctx.max ? largestLayout(random) : smallLayout();
    case 'amount':
      // Charges of the fixtures are of 1,000: a refund of up to 500 fits twice.
      return random.int(1, 500);
    case 'reference':
      return `fuzz-${random.hex(8)}`;
    case 'reason':
      return 'fuzz';
    case 'durationMinutes':
      return random.int(60, 180);
    case 'prices':
    case 'defaultPrices':
      return { standard: random.int(0, 2_000) };
    default:
      return undefined;
  }
}

/** Fields whose valid value the schema cannot give even at its largest: references, layouts, formats. */
const HINTED_WHEN_MAX = new Set([
  ...Object.keys(ENTITY_BY_FIELD),
  'seatIds',
  'ticketIds',
  'layout',
  'email',
  'timezone',
  'currency',
  'startsAt',
  'name',
  'title',
]);

/** A value the schema accepts, built from its types, bounds, enums and formats. */
export function fromSchema(schema: Schema, ctx: Context, name = '', parent = '', depth = 0): unknown {
  const hinted = ctx.max && !HINTED_WHEN_MAX.has(name) ? undefined : bodyHint(name, parent, ctx);
  if (hinted !== undefined) return hinted;
  const { random } = ctx;
  const s = effective(schema, random);
  if (s.const !== undefined) return s.const;
  if (s.enum) return random.pick(s.enum);
  switch (typeOf(s)) {
    case 'object': {
      const object: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(s.properties ?? {})) {
        if ((s.required ?? []).includes(key) || ctx.max || (depth < 4 && random.chance(0.5))) {
          object[key] = fromSchema(property, ctx, key, name, depth + 1);
        }
      }
      const extra = s.additionalProperties;
      if (!s.properties && typeof extra === 'object') {
        const keys = (s.propertyNames?.enum as string[] | undefined) ?? ['key'];
        for (const key of random.sample(keys, ctx.max ? keys.length : random.int(1, 2)))
          object[key] = fromSchema(extra, ctx, key, name, depth + 1);
      }
      // An order names its seats or asks for the best ones: one of the two.
      if ('seatIds' in object && 'best' in object) delete object[random.chance(0.8) ? 'best' : 'seatIds'];
      else if (s.properties?.seatIds && s.properties.best && !('seatIds' in object) && !('best' in object)) {
        object.seatIds = fromSchema(s.properties.seatIds, ctx, 'seatIds', name, depth + 1);
      }
      // A change (PATCH) names at least one field.
      const declared = Object.keys(s.properties ?? {});
      if (Object.keys(object).length === 0 && declared.length > 0) {
        const key = random.pick(declared);
        object[key] = fromSchema(s.properties![key]!, ctx, key, name, depth + 1);
      }
      return object;
    }
    case 'array': {
      const min = s.minItems ?? 0;
      const length = ctx.max
        ? Math.min(s.maxItems ?? 1_000, 1_000)
        : random.int(Math.max(min, 1), Math.min(s.maxItems ?? min + 2, min + 2));
      return Array.from({ length }, () => fromSchema(s.items ?? {}, ctx, name, parent, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
      if (ctx.max && s.maximum !== undefined) return s.maximum;
      const max = Math.min(s.maximum ?? min + 100, min + 100);
      return typeOf(s) === 'integer' ? random.int(Math.ceil(min), Math.floor(max)) : min + random.next() * (max - min);
    }
    case 'boolean':
      return random.chance(0.5);
    case 'null':
      return null;
    case 'string':
      return validString(s, ctx, name);
    default:
      return random.pick([1, 'x', true]);
  }
}

function validString(s: Schema, ctx: Context, name: string): string {
  const { random, fixtures } = ctx;
  if (s.format === 'date') return fixtures.date;
  if (s.format === 'date-time') return futureInstant(random);
  if (s.format === 'uuid') return random.uuid();
  if (s.format === 'email') return `fuzz.${random.hex(8)}@example.com`;
  if (s.pattern === '^[1-9][0-9]{0,15}$') return String(random.int(1, 1_000));
  if (s.pattern === '^[A-Z]{3}$') return 'RUB';
  if (name === 'timezone') return 'Europe/Moscow';
  if (ctx.max && s.maxLength !== undefined) return `fz${random.hex(8)}`.padEnd(s.maxLength, 'й');
  const min = Math.max(s.minLength ?? 1, 1);
  const max = Math.min(s.maxLength ?? 16, 16);
  return `fz${random.hex(random.int(Math.max(min - 2, 1), Math.max(max - 2, 1)))}`;
}

/** A valid value for a query parameter: real ids, the showing's date, a real cursor. */
export function queryValue(parameter: Parameter, ctx: Context): string | undefined {
  const { random, fixtures, set } = ctx;
  const entity = ENTITY_BY_FIELD[parameter.name];
  if (entity) return String(set.ids[entity]);
  switch (parameter.name) {
    case 'reference':
      return fixtures.chargeReference;
    case 'date':
      return fixtures.date;
    case 'from':
      return new Date(Date.now() - 86_400_000).toISOString();
    case 'to':
      return new Date(Date.now() + 30 * 86_400_000).toISOString();
    case 'count':
      return String(random.int(1, 4));
    case 'limit':
      return String(random.int(1, 200));
    case 'cursor':
      return fixtures.cursors[ctx.op.key];
    case 'token':
      return set.orderToken;
    default:
      return String(fromSchema(parameter.schema, ctx, parameter.name));
  }
}

function headerParameterValue(parameter: Parameter, ctx: Context): string | undefined {
  const { random } = ctx;
  switch (parameter.name) {
    case 'idempotency-key':
      return random.chance(0.97) ? random.uuid() : undefined;
    case 'prefer':
      return random.chance(0.3)
        ? random.pick(['respond-async', 'wait=1', 'respond-async, wait=2', 'wait=0'])
        : undefined;
    case 'x-request-id':
      return random.chance(0.3) ? `fuzz-${ctx.index}` : undefined;
    case 'if-none-match':
      return random.chance(0.2) ? random.pick(['"1"', '*', 'W/"abc"', '"0"']) : undefined;
    case 'authorization':
      return `Bearer ${ctx.set.orderToken}`;
    default:
      return parameter.required ? String(fromSchema(parameter.schema, ctx, parameter.name)) : undefined;
  }
}

export function validDraft(ctx: Context): Draft {
  const { op, random, credentials } = ctx;
  const draft: Draft = { method: op.method, pathParams: {}, query: [], headers: {}, hasBody: op.body !== undefined };
  const byLocation = (location: Parameter['in']) => op.parameters.filter((parameter) => parameter.in === location);
  for (const parameter of byLocation('path')) {
    if (parameter.name === 'seatId') {
      // Half the time one of the hall's first six seats (blocked by the fixtures), else any seat of it.
      draft.pathParams.seatId = String(random.pick(random.chance(0.5) ? ctx.set.seatIds.slice(0, 6) : ctx.set.seatIds));
    } else {
      const segments = op.path.split('/');
      const entity = ENTITY_BY_SEGMENT[segments[segments.indexOf(`{${parameter.name}}`) - 1] ?? ''];
      draft.pathParams[parameter.name] = encode(
        entity ? String(ctx.set.ids[entity]) : String(fromSchema(parameter.schema, ctx, parameter.name)),
      );
    }
  }
  // The order routes take the access token as ?token= or as a bearer header: one of the two.
  const tokenInQuery = random.chance(0.5);
  const orderAuth = op.parameters.some((parameter) => parameter.name === 'token') && !op.scheme;
  for (const parameter of byLocation('query')) {
    const wanted =
      parameter.name === 'token'
        ? tokenInQuery
        : parameter.required || random.chance(parameter.name === 'cursor' ? 0.5 : 0.4);
    if (!wanted) continue;
    const value = queryValue(parameter, ctx);
    if (value !== undefined) draft.query.push([parameter.name, encode(value)]);
  }
  for (const parameter of byLocation('header')) {
    if (parameter.name === 'authorization' && orderAuth && tokenInQuery) continue;
    const value = headerParameterValue(parameter, ctx);
    if (value !== undefined) draft.headers[parameter.name] = value;
  }
  if (op.scheme) draft.headers.authorization = `Bearer ${credentials[op.scheme]}`;
  if (op.body) draft.json = structuredClone(ctx.fixtures.bodies[op.key]) ?? fromSchema(op.body, ctx, 'body');
  return draft;
}

// ---------------------------------------------------------------------------------------------
// Where to aim in a body

export type Slot = { path: (string | number)[]; schema: Schema };

/** Every field of the body the schema declares (present or not), and every item and key present. */
export function slotsOf(schema: Schema, value: unknown, path: (string | number)[] = [], out: Slot[] = []): Slot[] {
  out.push({ path, schema });
  if (path.length > 6) return out;
  const s = effective(schema);
  const type = typeOf(s);
  if (type === 'object') {
    const object = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    for (const [key, property] of Object.entries(s.properties ?? {}))
      slotsOf(property, object[key], [...path, key], out);
    if (typeof s.additionalProperties === 'object') {
      const keys = new Set([...Object.keys(object), ...((s.propertyNames?.enum as string[] | undefined) ?? [])]);
      for (const key of keys) slotsOf(s.additionalProperties, object[key], [...path, key], out);
    }
  } else if (type === 'array' && s.items) {
    slotsOf(s.items, Array.isArray(value) ? value[0] : undefined, [...path, 0], out);
  }
  return out;
}

export function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let target = (root && typeof root === 'object' ? root : {}) as Record<string | number, unknown>;
  const top = target;
  for (const [at, key] of path.slice(0, -1).entries()) {
    const next = target[key];
    if (!next || typeof next !== 'object') target[key] = typeof path[at + 1] === 'number' ? [] : {};
    target = target[key] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (last === '__proto__')
    Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true });
  else target[last] = value;
  return top;
}

export function getAt(root: unknown, path: (string | number)[]): unknown {
  let value = root;
  for (const key of path)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

export function deleteAt(root: unknown, path: (string | number)[]) {
  const parent = getAt(root, path.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Record<string | number, unknown>)[path.at(-1)!];
}

export const slotsOfType = (slots: Slot[], ...types: string[]) =>
  slots.filter((slot) => types.includes(typeOf(slot.schema) ?? ''));

// ---------------------------------------------------------------------------------------------
// Serialising

/** JSON text, with RawJson values written as they are (1e400, 1.0) rather than as JavaScript would. */
export function serialize(value: unknown): Buffer {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof RawJson) {
      raws.push(item.text);
      return `@@RAW${raws.length - 1}@@`;
    }
    return item;
  });
  if (text === undefined) return Buffer.alloc(0);
  return Buffer.from(
    raws.length === 0 ? text : text.replace(/"@@RAW(\d+)@@"/g, (_m, at: string) => raws[Number(at)]!),
    'utf8',
  );
}

/** The draft as what to send: path and query, headers, body bytes; and how long the answer may take. */
export function finish(draft: Draft, ctx: Context, kinds: string[]): FuzzCase {
  const path =
    ctx.op.path.replace(/\{(\w+)\}/g, (_m, name: string) => draft.pathParams[name] ?? '') +
    (draft.query.length > 0 ? `?${draft.query.map(([name, value]) => `${name}=${value}`).join('&')}` : '');
  const headers: Record<string, string | string[]> = { ...draft.headers };
  let body: Buffer | undefined;
  if (draft.hasBody) {
    body = draft.raw !== undefined ? Buffer.from(draft.raw) : serialize(draft.json);
    if (draft.contentType === undefined) headers['content-type'] = 'application/json';
    else if (draft.contentType !== null) headers['content-type'] = draft.contentType;
    if (draft.contentEncoding) headers['content-encoding'] = draft.contentEncoding;
  }
  const prefer = [headers.prefer ?? []].flat().join(',');
  const budgetMs = BUDGET_MS + (/wait=\d/i.test(prefer) ? MAX_DECISION_WAIT_MS : 0);
  return {
    seed: ctx.seed,
    index: ctx.index,
    operation: ctx.op.key,
    kinds,
    method: draft.method,
    path,
    headers,
    body,
    chunked: draft.chunked,
    budgetMs,
  };
}
