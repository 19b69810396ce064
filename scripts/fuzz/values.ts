import type { Random } from './random.js';

/**
 * The catalogue of bad values the fuzz cases draw from. Each list is small and named after what it
 * tries; cases combine them with the operation's own schemas (scripts/fuzz/cases.ts).
 */

/** A piece of JSON text put into a body as it is: numbers JSON can write but JavaScript cannot keep. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Characters that have broken text handling somewhere: direction marks, joiners, emoji, odd spaces, surrogates. */
export const UNICODE_SAMPLES = [
  '\u202eevil\u202c', // right-to-left override
  '\u200f\u200e\u061c', // RTL / LTR / Arabic letter marks
  'שלום עולם',
  'مرحبا بالعالم',
  '映画館 ✨',
  '🎬🍿🎟️',
  '👨‍👩‍👧‍👦', // zero-width joiner sequence
  '🏳️‍🌈',
  'e\u0301\u0301\u0301\u0301\u0301', // stacked combining marks
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '\ufeffBOM',
  '\u2028\u2029',
  '\uffff\ufffe',
  '１２３', // full-width digits
  '١٢٣', // Arabic-Indic digits
  'İıßẞ',
  'Å vs Å', // precomposed and decomposed
  '\u0001\u001f\u007f\u0085',
  '\u00a0\u3000', // no-break and ideographic spaces (trimmed as white space)
  '\u200b', // zero-width space: not white space, yet invisible
  '𝕳𝖊𝖑𝖑𝖔',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  'ok\ud83c', // a pair cut in half
  '\udc00\ud800', // a pair in the wrong order
];

export const NUL_SAMPLES = ['\u0000', 'a\u0000b', 'name\u0000', '\u0000\u0000\u0000', 'tok_\u0000'];

export const WHITESPACE_SAMPLES = ['', ' ', '\t', '\n', '   \n\t ', '\u3000'];

export const INJECTION_SAMPLES = [
  "'; DROP TABLE cities; --",
  "1' OR '1'='1",
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%s%s%s%n',
  '\\',
  '"',
  '\\u0000',
];

/** Numbers a field meant for a small integer can receive. `RawJson` ones are written as such. */
export const NUMBER_SAMPLES: unknown[] = [
  -1,
  0,
  -0,
  0.5,
  1.5,
  -1.5,
  0.1 + 0.2,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  2 ** 64,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('1e-400'),
  new RawJson('1.0'),
  new RawJson('1E2'),
  new RawJson('-0.0'),
  new RawJson('123456789012345678901234567890'),
  new RawJson('0.00000000000000000000000000000000000001'),
];

/** A value of another JSON type than the one expected. */
export function wrongTypeFor(type: string | undefined, random: Random): unknown {
  const byType: Record<string, unknown[]> = {
    integer: ['1', '12abc', '', true, false, null, [], [1], {}, { $gt: 0 }, 1.5, 'NaN'],
    number: ['0.5', '', true, null, [], [0.5], {}, 'Infinity'],
    string: [123, -1, 0, 1.5, true, false, null, [], ['a'], {}, { a: 'b' }, { toString: 'x' }],
    boolean: ['true', 'false', 1, 0, 'yes', null, [], {}, [true]],
    array: ['a', '1,2', 1, true, null, {}, { 0: 1, length: 1 }],
    object: [[], [{}], 'x', '{}', 1, 0, true, null],
  };
  return random.pick(byType[type ?? ''] ?? [null, 1, 'x', true, [], {}]);
}

/** A very long string: plain, multi-byte, digits or repeated words. */
export function hugeString(random: Random, maxLength = 200_000): string {
  const length = random.pick([256, 1_000, 4_097, 10_000, 65_536, 100_000, 200_000].filter((n) => n <= maxLength));
  const unit = random.pick(['x', '🎬', 'ж', '9', 'ab ', '\u202e', 'é']);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length * (unit.length > 1 ? 2 : 1));
}

/** A string of 2-40 characters mixing every odd sample, so that the combinations vary from case to case. */
export function oddString(random: Random, pools: string[][] = [UNICODE_SAMPLES]): string {
  const parts: string[] = [];
  const count = random.int(1, 4);
  for (let index = 0; index < count; index += 1) {
    parts.push(random.chance(0.3) ? `n${random.hex(3)}` : random.pick(random.pick(pools)));
  }
  return parts.join(random.chance(0.5) ? '' : ' ');
}

/** Near misses of each string format the API uses. */
export const FORMAT_SAMPLES: Record<string, string[]> = {
  date: [
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-1-1',
    '24-01-01',
    '0000-01-01',
    '0001-01-01',
    '9999-12-31',
    '+275760-09-13',
    '2024-01-01T00:00:00Z',
    '01/02/2024',
    'today',
    '2024-W01-1',
    '2024-001',
  ],
  'date-time': [
    '2024-01-01',
    '2024-01-01T00:00:00',
    '2024-01-01 10:00:00Z',
    '2024-01-01T25:00:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00:00+23:59',
    '2024-01-01T00:00:00-00:00',
    '2024-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
    '9000-12-31T23:59:59Z',
    '9999-12-31T23:59:59.999999999Z',
    '+275760-09-13T00:00:00Z',
    '2099-01-01T00:00:00.1234567890123Z',
    '2099-01-01t00:00:00z',
    'yesterday',
  ],
  uuid: [
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
    '123e4567-e89b-92d3-a456-426614174000',
    '123e4567e89b42d3a456426614174000',
    '{123e4567-e89b-42d3-a456-426614174000}',
    '123e4567-e89b-42d3-a456-42661417400',
    '123e4567-e89b-42d3-a456-4266141740000',
    'g23e4567-e89b-42d3-a456-426614174000',
    'urn:uuid:123e4567-e89b-42d3-a456-426614174000',
  ],
  email: [
    'plain',
    '@example.com',
    'a@',
    'a@b',
    'a@b.c',
    'a..b@example.com',
    '.a@example.com',
    'a@example..com',
    'a b@example.com',
    '"quoted"@example.com',
    'a@[127.0.0.1]',
    'ünïcödé@exämple.com',
    `${'a'.repeat(250)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
    'a@example.com\n',
    'A@EXAMPLE.COM',
  ],
  timezone: ['+03:00', 'UTC+3', 'Mars/Olympus', 'europe/moscow', 'Europe/Moscow ', 'EST5EDT', 'Etc/GMT+14', ''],
  currency: ['rub', 'RU', 'RUBL', 'XXX', '123', 'R B', '₽'],
};

/** Path segments that are not ids (percent-encoded where they must be, malformed where that is the point). */
export const PATH_JUNK = [
  'abc',
  '0',
  '-1',
  '1.5',
  '1e3',
  '1e999',
  '0x1F',
  '+1',
  '%201',
  '1%20',
  '01',
  '%00',
  '1%00',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%2F',
  '1%2F2',
  '..',
  '.',
  '%2e%2e',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  'true',
  '%5B%5D',
  '%7B%7D',
  '9'.repeat(17),
  '9'.repeat(40),
  '9007199254740992',
  '9007199254740993',
  '18446744073709551616',
  encodeURIComponent('١٢٣'),
  encodeURIComponent('１'),
  encodeURIComponent('🎬'),
  encodeURIComponent('\u202e1'),
  encodeURIComponent("1' OR '1'='1"),
  encodeURIComponent('1;DROP TABLE cities'),
  'x'.repeat(2_000),
  '123e4567-e89b-42d3-a456-426614174000',
  '123e4567e89b42d3a456426614174000',
  '00000000-0000-0000-0000-000000000000x',
];

/** Query values that are none of what a parameter expects. */
export const QUERY_JUNK = [
  '',
  ' ',
  'abc',
  '-1',
  '0',
  '1.5',
  '1e2',
  '0x10',
  '+5',
  '201',
  '9007199254740992',
  '9'.repeat(30),
  'true',
  'null',
  '[]',
  '{}',
  '\u0000',
  '1\u0000',
  '\ud800',
  '🎬',
  '\u202e2024-01-01',
  '2024-02-30',
  '0000-01-01',
  'x'.repeat(3_000),
];

/** Authorization header values that are not the right token in the right form. */
export function badAuthorization(random: Random, tokens: string[]): string | undefined {
  const token = random.pick(tokens);
  return random.pick([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer wrong-token',
    `Bearer ${token}x`,
    `Bearer ${token.slice(0, -1)}`,
    `Bearer ${token} extra`,
    `bearer ${token.toUpperCase()}`,
    `Token ${token}`,
    `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
    `Basic ${Buffer.from('admin:wrong').toString('base64')}`,
    'Basic !!!',
    `Bearer ${'x'.repeat(4_000)}`,
    `Bearer ${token}\t`,
    'Bearer 🎬',
    'Bearer Ｂｅａｒｅｒ',
    'Negotiate abc',
  ]);
}

/** Cursors that are not ones the API wrote: junk, base64 of junk, and base64 of JSON of the wrong shape. */
export function garbageCursor(random: Random, realCursor: string | undefined): string {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString(random.chance(0.5) ? 'base64url' : 'base64');
  const json = (value: unknown) => b64(JSON.stringify(value));
  const choices: (() => string)[] = [
    () => random.pick(['', ' ', 'abc', 'null', '0', '-1', '%%%', '====', '\u0000', '🎬', '\ud800']),
    () => random.hex(random.int(1, 199)),
    () => b64(random.hex(random.int(1, 100))),
    () => Buffer.from(Array.from({ length: random.int(1, 120) }, () => random.int(0, 255))).toString('base64url'),
    () => json(random.pick([null, 1, 'a', {}, [], [1], [1, 2, 3], { key: 1, id: 1 }, [[1], [2]], [true, 1]])),
    () =>
      json([
        random.pick([
          -1,
          0,
          1.5,
          2 ** 53,
          1e308,
          -(2 ** 53) + 1,
          '1',
          '2024-01-01T00:00:00.000Z',
          '0001-01-01T00:00:00.000Z',
          '9999-12-31T23:59:59.999Z',
          '0000-01-01T00:00:00.000Z',
          '2024-02-30T00:00:00.000Z',
          '+275760-09-13T00:00:00.000Z',
          '\u0000',
        ]),
        random.pick([-1, 0, 1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, '1', null]),
      ]),
    () => b64('[1,1'),
    () => b64(`${'['.repeat(5_000)}${']'.repeat(5_000)}`).slice(0, 200),
    () => 'x'.repeat(random.pick([199, 200, 201, 1_000])),
    () => {
      if (!realCursor) return json([1, 1]);
      const at = random.int(0, realCursor.length - 1);
      return random.pick([
        realCursor.slice(0, at),
        `${realCursor}${random.pick(['=', '==', 'A', '%3D', '.'])}`,
        `${realCursor.slice(0, at)}${random.pick(['A', '_', '-', '+', '/'])}${realCursor.slice(at + 1)}`,
        realCursor.split('').reverse().join(''),
      ]);
    },
  ];
  return random.pick(choices)();
}

/** Raw bodies that are not valid JSON (or not a JSON object), some made from the valid body's text. */
export function malformedJson(random: Random, valid: string): string | Buffer {
  const cut = random.int(0, Math.max(0, valid.length - 1));
  const choices: (() => string | Buffer)[] = [
    () => valid.slice(0, cut),
    () => valid.replace(/}$/, ',}'),
    () => valid.replaceAll('"', "'"),
    () => `/* comment */${valid}`,
    () => `${valid} // comment`,
    () => valid.replace(/"(\w+)":/, '$1:'),
    () =>
      valid.replace(
        /:(\s*)("[^"]*"|-?\d+(\.\d+)?|true|false|null)/,
        random.pick([':NaN', ':undefined', ':Infinity', ':-', ':01', ':.5', ':1.', ':0x10', ':+1']),
      ),
    () => `${valid}${random.pick(['x', '}', ']', ',', '\u0000', ' 1', valid])}`,
    () => random.pick(['', ' ', '\n', '\r\n', '\t']),
    () => random.pick(['null', 'true', 'false', '0', '-1', '1e400', '"string"', '"\\u0000"']),
    () => random.pick(['{', '}', '[', ']', '{}}', '[[]', '{"', '{"a"', '{"a":', '{"a":}', '{,}', '{"a":1,,}', '{:1}']),
    () => `${'['.repeat(random.pick([100, 10_000, 100_000]))}${random.chance(0.5) ? ']'.repeat(10) : ''}`,
    () => {
      const depth = random.pick([100, 5_000, 50_000]);
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    },
    () => `{"a":"${'\\'.repeat(random.pick([1, 3]))}"}`,
    () => '{"a":"\\uD800\\uZZZZ"}',
    () => '{"a":"\\x41"}',
    () => `{"a":"line\nbreak"}`,
    () =>
      Buffer.concat([
        Buffer.from(valid.slice(0, cut)),
        Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
        Buffer.from(valid.slice(cut)),
      ]),
    () => Buffer.from(valid, 'utf16le'),
    () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from(valid)]),
    () => `\ufeff\ufeff${valid}`,
    () => valid.replace(/\{/, '{"__proto__":{"polluted":true},'),
    () => valid.replace(/\{/, '{"constructor":{"prototype":{"polluted":true}},'),
    () => `${valid}\n${valid}`,
    () => `name=fuzz&cityId=1`,
    () => `<?xml version="1.0"?><a>1</a>`,
  ];
  return random.pick(choices)();
}
