import { gzipSync } from 'node:zlib';
import type { Random } from './random.js';
import {
  effective,
  encode,
  fromSchema,
  getAt,
  deleteAt,
  headerValue,
  isHeaderByte,
  queryValue,
  serialize,
  setAt,
  slotsOf,
  slotsOfType,
  typeOf,
  type Context,
  type Draft,
  type Operation,
  type Parameter,
  type Schema,
  type Slot,
} from './requests.js';
import {
  badAuthorization,
  FORMAT_SAMPLES,
  garbageCursor,
  hugeString,
  INJECTION_SAMPLES,
  malformedJson,
  NUL_SAMPLES,
  NUMBER_SAMPLES,
  oddString,
  PATH_JUNK,
  QUERY_JUNK,
  UNICODE_SAMPLES,
  WHITESPACE_SAMPLES,
  wrongTypeFor,
} from './values.js';

/**
 * The kinds of bad input, each a change of a valid request's draft (scripts/fuzz/requests.ts) that
 * applies to some operations: to a body field the schema declares, to the path, the query, the
 * headers, the token, the method. Each draws what it needs from the case's seeded generator.
 */

export type Mutation = {
  applies: (op: Operation) => boolean;
  weight: number;
  apply: (draft: Draft, ctx: Context) => void;
};

const hasBody = (op: Operation) => op.body !== undefined;
const hasParam = (location: Parameter['in'], name?: string) => (op: Operation) =>
  op.parameters.some((parameter) => parameter.in === location && (name === undefined || parameter.name === name));

/** Aims a value at a body field of one of the given types (any field when there is none). */
function mutateField(draft: Draft, ctx: Context, types: string[], make: (slot: Slot) => unknown) {
  const slots = slotsOf(ctx.op.body!, draft.json).filter((slot) => slot.path.length > 0);
  const fitting = slotsOfType(slots, ...types);
  const slot = ctx.random.pick(fitting.length > 0 ? fitting : slots.length > 0 ? slots : [{ path: [], schema: {} }]);
  draft.json = setAt(draft.json, slot.path, make(slot));
}

const stringWith = (random: Random, sample: string) =>
  random.pick([sample, `Fuzz ${sample}`, `${sample} ${random.hex(4)}`, `${random.hex(3)}${sample}${random.hex(3)}`]);

let gzipBomb: Buffer | undefined;

export const MUTATIONS: Record<string, Mutation> = {
  'wrong-type': {
    applies: hasBody,
    weight: 6,
    apply: (draft, ctx) => mutateField(draft, ctx, [], (slot) => wrongTypeFor(typeOf(slot.schema), ctx.random)),
  },
  'max-valid': {
    applies: hasBody,
    weight: 3,
    apply: (draft, ctx) => {
      const fixed = ctx.fixtures.bodies[ctx.op.key];
      if (fixed === undefined) draft.json = fromSchema(ctx.op.body!, { ...ctx, max: true }, 'body');
    },
  },
  'huge-string': {
    applies: hasBody,
    weight: 3,
    apply: (draft, ctx) => mutateField(draft, ctx, ['string'], () => hugeString(ctx.random)),
  },
  unicode: {
    applies: hasBody,
    weight: 5,
    apply: (draft, ctx) =>
      mutateField(draft, ctx, ['string'], () => stringWith(ctx.random, oddString(ctx.random, [UNICODE_SAMPLES]))),
  },
  'nul-byte': {
    applies: hasBody,
    weight: 3,
    apply: (draft, ctx) => {
      if (ctx.random.chance(0.2)) draft.json = setAt(draft.json, [`na\u0000me`], 'x');
      else mutateField(draft, ctx, ['string'], () => stringWith(ctx.random, ctx.random.pick(NUL_SAMPLES)));
    },
  },
  'number-edge': {
    applies: hasBody,
    weight: 5,
    apply: (draft, ctx) => mutateField(draft, ctx, ['integer', 'number'], () => ctx.random.pick(NUMBER_SAMPLES)),
  },
  boundary: {
    applies: hasBody,
    weight: 5,
    apply: (draft, ctx) =>
      mutateField(draft, ctx, ['integer', 'number', 'string', 'array'], (slot) => boundaryValue(slot.schema, ctx)),
  },
  'enum-format': {
    applies: hasBody,
    weight: 4,
    apply: (draft, ctx) => {
      const slots = slotsOf(ctx.op.body!, draft.json).filter((slot) => slot.path.length > 0);
      const formatted = slots.filter((slot) => {
        const s = effective(slot.schema);
        return s.enum || s.format || s.pattern || ['timezone', 'currency'].includes(String(slot.path.at(-1)));
      });
      const slot = ctx.random.pick(
        formatted.length > 0 ? formatted : slots.length > 0 ? slots : [{ path: [], schema: {} }],
      );
      draft.json = setAt(draft.json, slot.path, nearMiss(slot, ctx.random));
    },
  },
  'missing-required': {
    applies: hasBody,
    weight: 4,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const objects = slotsOf(ctx.op.body!, draft.json).filter(
        (slot) => typeOf(slot.schema) === 'object' && (effective(slot.schema).required ?? []).length > 0,
      );
      if (objects.length === 0 || draft.json === null || typeof draft.json !== 'object') {
        draft.json = {};
        return;
      }
      const slot = random.pick(objects);
      const required = effective(slot.schema).required!;
      const names = random.chance(0.6) ? [random.pick(required)] : required;
      for (const name of names) deleteAt(draft.json, [...slot.path, name]);
      if (random.chance(0.2)) draft.json = setAt(draft.json, slot.path, {});
    },
  },
  'extra-field': {
    applies: hasBody,
    weight: 4,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const objects = slotsOf(ctx.op.body!, draft.json).filter(
        (slot) => typeOf(slot.schema) === 'object' && getAt(draft.json, slot.path) !== undefined,
      );
      const slot = random.pick(objects.length > 0 ? objects : [{ path: [], schema: {} }]);
      const existing = Object.keys((getAt(draft.json, slot.path) as object | undefined) ?? {});
      const name = random.pick([
        'extra',
        'id',
        'createdAt',
        'status',
        'isAdmin',
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        '',
        ' ',
        '🎬',
        '\u202ename',
        'a'.repeat(1_000),
        ...existing.map((key) => key.toUpperCase()),
        ...existing.map((key) => `${key} `),
      ]);
      const value = random.pick([1, 'x', true, null, {}, [], { polluted: true }, { rows: [] }]);
      draft.json = setAt(draft.json, [...slot.path, name], value);
    },
  },
  'body-shape': {
    applies: hasBody,
    weight: 2,
    apply: (draft, ctx) => {
      draft.json = ctx.random.pick([
        null,
        [],
        [draft.json],
        'string',
        12,
        true,
        {},
        { data: draft.json },
        { a: { b: { c: { d: {} } } } },
      ]);
    },
  },
  'huge-array': {
    applies: hasBody,
    weight: 4,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const seatIds = slotsOf(ctx.op.body!, draft.json).find((slot) => slot.path.at(-1) === 'seatIds');
      const length = random.pick([11, 101, 1_000, 10_000, 50_000]);
      const item = (at: number): unknown =>
        random.pick<() => unknown>([
          () => at + 1,
          () => 1,
          () => random.int(1, 2 ** 31),
          () => random.pick([-1, 0, 1.5, '1', null, [], {}]),
          () => ({ number: at + 1 }),
          () => [at],
        ])();
      const kind = random.int(0, 2);
      const make = () => Array.from({ length }, (_, at) => (kind === 0 ? at + 1 : kind === 1 ? item(at) : 7));
      if (seatIds && random.chance(0.5)) {
        draft.json = setAt(
          draft.json,
          seatIds.path,
          Array.from({ length: 10_000 }, (_, at) => at + 1),
        );
      } else mutateField(draft, ctx, ['array'], make);
    },
  },
  'malformed-json': {
    applies: hasBody,
    weight: 6,
    apply: (draft, ctx) => {
      draft.raw = malformedJson(ctx.random, serialize(draft.json).toString('utf8'));
    },
  },
  'content-type': {
    applies: hasBody,
    weight: 5,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const choice = random.int(0, 9);
      if (choice <= 5) {
        draft.contentType = random.pick([
          null,
          '',
          'text/plain',
          'text/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=fuzz',
          'application/xml',
          'application/octet-stream',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'application/json; charset=koi8-r',
          'application/json; charset="utf-8"',
          'application/json;charset=UTF-8',
          'application/json ; charset=utf-8',
          'APPLICATION/JSON',
          'application/merge-patch+json',
          'application/vnd.api+json',
          'application/jsonx',
          'application/json, text/plain',
          '*/*',
          'json',
          'application/json; boundary=x; charset=utf-8; q=1',
        ]);
        if (draft.contentType === 'application/x-www-form-urlencoded') draft.raw = 'name=fuzz&showingId=1';
      } else if (choice <= 8) {
        const encoding = random.pick([
          'gzip',
          'gzip-real',
          'deflate',
          'br',
          'identity',
          'x-unknown',
          'gzip, gzip',
          'bomb',
        ]);
        const text = serialize(draft.json);
        if (encoding === 'gzip-real') {
          draft.contentEncoding = 'gzip';
          draft.raw = gzipSync(text);
        } else if (encoding === 'bomb') {
          draft.contentEncoding = 'gzip';
          gzipBomb ??= gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
          draft.raw = gzipBomb;
        } else draft.contentEncoding = encoding;
      } else draft.chunked = true;
    },
  },
  'oversized-body': {
    applies: hasBody,
    weight: 2,
    apply: (draft, ctx) => {
      const size = ctx.random.pick([1024 * 1024 + 1, 1_500_000, 4 * 1024 * 1024]);
      if (ctx.random.chance(0.7)) mutateField(draft, ctx, ['string'], () => 'x'.repeat(size));
      else draft.raw = Buffer.alloc(size, '{');
      if (ctx.random.chance(0.3)) draft.chunked = true;
    },
  },
  'unexpected-body': {
    applies: (op) => !hasBody(op),
    weight: 4,
    apply: (draft, ctx) => {
      const { random } = ctx;
      draft.hasBody = true;
      draft.json = random.pick([{}, { a: 1 }, { name: 'x', id: 1 }, [], null]);
      if (random.chance(0.4)) draft.raw = malformedJson(random, '{"a":1}');
      if (random.chance(0.3))
        draft.contentType = random.pick([null, 'text/plain', 'application/xml', 'application/json; charset=utf-16']);
      if (random.chance(0.1)) draft.raw = Buffer.alloc(2 * 1024 * 1024, 'x');
    },
  },
  'path-junk': {
    applies: hasParam('path'),
    weight: 8,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const names = Object.keys(draft.pathParams);
      for (const name of random.chance(0.7) ? [random.pick(names)] : names) {
        draft.pathParams[name] = random.chance(0.8)
          ? random.pick(PATH_JUNK)
          : encode(oddString(random, [UNICODE_SAMPLES, NUL_SAMPLES, INJECTION_SAMPLES]));
      }
    },
  },
  'unknown-id': {
    applies: (op) => hasParam('path')(op) || hasBody(op) || hasParam('query')(op),
    weight: 6,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const unknownInteger = () =>
        random.pick([Number.MAX_SAFE_INTEGER, random.int(10_000_000, 999_999_999), 2 ** 31 - 1, 2 ** 31]);
      const unknownUuid = () =>
        random.pick([random.uuid(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']);
      const targets: (() => void)[] = [];
      for (const parameter of ctx.op.parameters) {
        if (parameter.in === 'path') {
          targets.push(() => {
            draft.pathParams[parameter.name] =
              parameter.schema.format === 'uuid' ? unknownUuid() : String(unknownInteger());
          });
        }
        if (parameter.in === 'query' && (parameter.name.endsWith('Id') || parameter.name === 'reference')) {
          targets.push(() => {
            draft.query = draft.query.filter(([name]) => name !== parameter.name);
            const value = parameter.schema.format === 'uuid' ? unknownUuid() : String(unknownInteger());
            draft.query.push([parameter.name, parameter.name === 'reference' ? `no-such-${random.hex(6)}` : value]);
          });
        }
      }
      if (ctx.op.body) {
        for (const slot of slotsOf(ctx.op.body, draft.json)) {
          const field = String(slot.path.at(-1) ?? '');
          const item = typeof slot.path.at(-1) === 'number' ? String(slot.path.at(-2)) : '';
          if (field.endsWith('Id') || item.endsWith('Ids')) {
            targets.push(() => {
              const value = effective(slot.schema).format === 'uuid' ? unknownUuid() : unknownInteger();
              draft.json = setAt(draft.json, slot.path, value);
            });
          }
        }
      }
      if (targets.length === 0)
        draft.pathParams = Object.fromEntries(Object.keys(draft.pathParams).map((name) => [name, '999999999']));
      else for (const target of random.sample(targets, random.int(1, 2))) target();
    },
  },
  'query-junk': {
    applies: () => true,
    weight: 5,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const known = ctx.op.parameters.filter((parameter) => parameter.in === 'query');
      const choice = random.int(0, 5);
      if (known.length > 0 && choice <= 1) {
        const parameter = random.pick(known);
        draft.query = draft.query.filter(([name]) => name !== parameter.name);
        const value = random.chance(0.75)
          ? random.pick([...QUERY_JUNK, ...(FORMAT_SAMPLES[parameter.schema.format ?? ''] ?? [])])
          : oddString(random, [UNICODE_SAMPLES, NUL_SAMPLES, INJECTION_SAMPLES, WHITESPACE_SAMPLES]);
        draft.query.push([parameter.name, encode(value)]);
      } else if (known.length > 0 && choice === 2) {
        const parameter = random.pick(known);
        const value = queryValue(parameter, ctx) ?? '1';
        draft.query.push([parameter.name, encode(value)], [parameter.name, encode(random.pick(['2', value, '']))]);
      } else if (choice === 3) {
        const required = known.filter((parameter) => parameter.required);
        if (required.length > 0) {
          const dropped = random.pick(required).name;
          draft.query = draft.query.filter(([name]) => name !== dropped);
        } else draft.query.push(['sort', 'name']);
      } else if (choice === 4) {
        draft.query.push(
          random.pick<[string, string]>([
            ['sort', 'name'],
            ['limit%5B%5D', '1'],
            ['limit[]', '1'],
            ['limit%5Ba%5D', '1'],
            ['__proto__', '1'],
            ['constructor', 'x'],
            ['', '1'],
            ['%00', '1'],
            ['%ZZ', '%ZZ'],
            ['cursor', '%'],
            ['a', '1&&&b=2'],
            [encode('🎬'), encode('\u202e')],
          ]),
        );
      } else {
        const count = random.pick([50, 300]);
        for (let at = 0; at < count; at += 1) draft.query.push([`p${at}`, String(at)]);
      }
    },
  },
  'cursor-junk': {
    applies: hasParam('query', 'cursor'),
    weight: 5,
    apply: (draft, ctx) => {
      draft.query = draft.query.filter(([name]) => name !== 'cursor');
      const real = ctx.fixtures.cursors[ctx.op.key] ?? Object.values(ctx.fixtures.cursors)[0];
      draft.query.push(['cursor', encode(garbageCursor(ctx.random, real))]);
    },
  },
  'header-junk': {
    applies: hasParam('header'),
    weight: 5,
    apply: (draft, ctx) => {
      const { random } = ctx;
      const parameter = random.pick(ctx.op.parameters.filter((candidate) => candidate.in === 'header'));
      const specific: Record<string, string[]> = {
        prefer: [
          'wait=99999',
          'wait=-1',
          'wait=1e3',
          'wait=abc',
          'wait=',
          'WAIT=2',
          'wait=0001',
          'respond-async, wait=0',
          'wait=10000000000',
          'wait=3;wait=4',
          'x'.repeat(201),
        ],
        'if-none-match': ['*', '"', 'W/', '"1", "2"', '"999999999999999999999"', '"-1"', 'x'.repeat(1_001)],
        'x-request-id': ['', ' ', 'a b', 'x'.repeat(129), '../../', '🎬', '%00'],
        authorization: [
          'Bearer',
          'Bearer ',
          'Bearer x',
          `Bearer ${ctx.set.orderToken}x`,
          `Basic ${ctx.set.orderToken}`,
          `Bearer ${'x'.repeat(4_000)}`,
        ],
        'idempotency-key': ['', ' ', 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(4_000), '🎬', '\u202ekey'],
      };
      const value = random.pick<() => string | string[] | undefined>([
        () => undefined,
        () => random.pick(specific[parameter.name] ?? ['', 'x'.repeat(300)]),
        () => oddString(random, [UNICODE_SAMPLES, INJECTION_SAMPLES, WHITESPACE_SAMPLES]),
        () => [random.uuid(), random.uuid()],
        () => String.fromCharCode(...Array.from({ length: random.int(1, 20) }, () => random.int(0x80, 0xff))),
      ])();
      if (value === undefined) delete draft.headers[parameter.name];
      else draft.headers[parameter.name] = Array.isArray(value) ? value : headerValueKeepingLatin1(value);
    },
  },
  auth: {
    applies: () => true,
    weight: 5,
    apply: (draft, ctx) => {
      const { random, op, credentials } = ctx;
      const others = Object.entries(credentials)
        .filter(([scheme]) => scheme !== op.scheme)
        .map(([, token]) => `Bearer ${token}`);
      const value = op.scheme
        ? random.chance(0.25)
          ? random.pick([...others, `Bearer ${ctx.set.orderToken}`])
          : badAuthorization(random, [credentials[op.scheme]!])
        : random.pick([
            ...Object.values(credentials).map((token) => `Bearer ${token}`),
            badAuthorization(random, ['x']),
          ]);
      if (value === undefined) delete draft.headers.authorization;
      else draft.headers.authorization = headerValue(value);
    },
  },
  'wrong-method': {
    applies: () => true,
    weight: 2,
    apply: (draft, ctx) => {
      const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter(
        (method) => !ctx.op.pathMethods.includes(method),
      );
      draft.method = ctx.random.pick(others.length > 0 ? others : ['OPTIONS']);
    },
  },
};

/** Latin-1 text (bytes 0x80-0xff) is sent as it is; anything else as its UTF-8 bytes. */
const headerValueKeepingLatin1 = (text: string) =>
  [...text].every((char) => char.charCodeAt(0) <= 0xff && isHeaderByte(char.charCodeAt(0))) ? text : headerValue(text);

function boundaryValue(schema: Schema, ctx: Context): unknown {
  const { random } = ctx;
  const s = effective(schema);
  const type = typeOf(s);
  if (type === 'integer' || type === 'number') {
    const candidates = [
      s.minimum !== undefined ? s.minimum - 1 : undefined,
      s.minimum,
      s.maximum,
      s.maximum !== undefined ? s.maximum + 1 : undefined,
      s.exclusiveMinimum,
      s.exclusiveMinimum !== undefined ? s.exclusiveMinimum - 1 : undefined,
      s.maximum !== undefined ? s.maximum + 0.5 : undefined,
      s.maximum !== undefined ? s.maximum * 10 : undefined,
    ].filter((value) => value !== undefined);
    return random.pick(candidates.length > 0 ? candidates : [-1, 0]);
  }
  if (type === 'string') {
    const max = s.maxLength ?? 255;
    return random.pick([
      'x'.repeat(max),
      'x'.repeat(max + 1),
      `${' '.repeat(max)}x`,
      'é'.repeat(max + 1),
      '🎬'.repeat(Math.ceil((max + 1) / 2)),
      ...WHITESPACE_SAMPLES,
    ]);
  }
  if (type === 'array') {
    const item = fromSchema(s.items ?? {}, ctx, 'item');
    return random.pick([[], Array.from({ length: (s.maxItems ?? 10) + 1 }, () => structuredClone(item)), [item, item]]);
  }
  return null;
}

function nearMiss(slot: Slot, random: Random): unknown {
  const s = effective(slot.schema);
  const name = String(slot.path.at(-1));
  if (s.enum) {
    const value = String(random.pick(s.enum));
    return random.pick([value.toUpperCase(), ` ${value}`, `${value} `, `${value}s`, '', 'unknown', s.enum, 1, true]);
  }
  const samples =
    FORMAT_SAMPLES[s.format ?? ''] ??
    FORMAT_SAMPLES[name] ??
    (s.pattern === '^[A-Z]{3}$' ? FORMAT_SAMPLES.currency : undefined) ??
    INJECTION_SAMPLES;
  return random.pick(samples!);
}
