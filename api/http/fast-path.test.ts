import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { Deps } from '../../domain/context.js';
import { DomainError } from '../../domain/errors.js';
import { createLogger } from '../../infra/logger.js';
import { rawRequest, type RawAnswer } from '../../test/raw-http.js';
import { fastPathFor, JSON_BODY_LIMIT } from './fast-path.js';
import { defineRoute, type Route } from './route.js';

/** What the fast path leaves to express; a stand-in status makes it visible. */
const LEFT_TO_EXPRESS = 299;

const thingRoute = defineRoute({
  method: 'post',
  path: '/things',
  tag: 'Test',
  summary: 'test route',
  body: z.strictObject({ n: z.number() }),
  headers: z.object({ 'x-fail': z.enum(['known', 'unknown', 'unserialisable']).optional() }),
  status: 202,
  fastPath: true,
  handler: async ({ body, headers }) => {
    if (headers['x-fail'] === 'known') throw new DomainError('SHOWING_NOT_FOUND', 'no such showing');
    if (headers['x-fail'] === 'unknown') throw new Error('boom');
    if (headers['x-fail'] === 'unserialisable') return { got: BigInt(body.n) };
    return { got: body.n };
  },
});

describe('api: the fast path', () => {
  let server: Server;
  let port: number;

  before(async () => {
    const deps = { log: createLogger('silent') } as Deps;
    const fastPath = fastPathFor([thingRoute], deps, '/api/v1', () => '127.0.0.1');
    server = createServer((req, res) => {
      if (!fastPath(req, res)) res.writeHead(LEFT_TO_EXPRESS).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  /** Sends these headers and bytes. */
  const send = (method: string, path: string, headers: Record<string, string | number>, body?: string | Buffer) =>
    rawRequest(port, method, path, headers, body);
  const json = (body: string | Buffer, headers: Record<string, string | number> = {}) =>
    send(
      'POST',
      '/api/v1/things',
      { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      body,
    );

  it('when a plain JSON body comes to the exact path, should answer it with the route status and a JSON body', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON; Charset=UTF-8']) {
      const answer = await json('{"n":1}', { 'content-type': type });
      expect(answer, type).to.deep.equal({ status: 202, type: 'application/json; charset=utf-8', body: { got: 1 } });
    }
  });

  it('when the request is not the plain case, should leave it to express', async () => {
    const body = '{"n":1}';
    const plain = { 'content-type': 'application/json', 'content-length': body.length };
    const cases: [string, Promise<RawAnswer>][] = [
      ['query string', send('POST', '/api/v1/things?x=1', plain, body)],
      ['other path', send('POST', '/api/v1/things/1', plain, body)],
      ['other method', send('PUT', '/api/v1/things', plain, body)],
      [
        'chunked',
        send('POST', '/api/v1/things', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body),
      ],
      ['gzip', json(gzipSync(body), { 'content-encoding': 'gzip' })],
      ['latin1', json(body, { 'content-type': 'application/json; charset=latin1' })],
      ['not JSON', json(body, { 'content-type': 'text/plain' })],
      ['spaced type', json(body, { 'content-type': 'application/ json' })],
      ['spaced charset', json(body, { 'content-type': 'application/json; charset=utf -8' })],
      ['quoted charset', json(body, { 'content-type': 'application/json; charset="utf-8"' })],
      ['no type', send('POST', '/api/v1/things', { 'content-length': body.length }, body)],
      ['empty', json('')],
      ['over the limit', json(`{"n":1,"pad":"${'x'.repeat(JSON_BODY_LIMIT)}"}`)],
    ];
    for (const [name, answer] of cases) expect((await answer).status, name).to.equal(LEFT_TO_EXPRESS);
  });

  it('when the body is not JSON, or JSON that express.json refuses (not an object or array), should answer 400 MALFORMED_JSON', async () => {
    for (const body of ['{"n":', '"n"', '12', ' ', 'null']) {
      const answer = await json(body);
      expect(answer.status, body).to.equal(400);
      expect(answer.body.error.code, body).to.equal('MALFORMED_JSON');
    }
  });

  it('when the body starts with a byte-order mark, should read it as express.json does', async () => {
    expect((await json('\uFEFF {"n":2}')).body).to.deep.equal({ got: 2 });
  });

  it('when the body breaks the schema, should answer 400 VALIDATION_FAILED naming the field', async () => {
    const answer = await json('{"n":"one"}');
    expect(answer.status).to.equal(400);
    expect(answer.body.error.code).to.equal('VALIDATION_FAILED');
    expect(answer.body.error.details).to.have.length(1);
    expect(answer.body.error.details[0]).to.include({ in: 'body', path: 'n' });
  });

  it('when the handler throws or its reply cannot be serialised, should answer a domain error with its code and anything else with a plain 500', async () => {
    const known = await json('{"n":1}', { 'x-fail': 'known' });
    expect(known.status).to.equal(404);
    expect(known.body.error).to.include({ code: 'SHOWING_NOT_FOUND', message: 'no such showing' });
    for (const fail of ['unknown', 'unserialisable']) {
      expect(await json('{"n":1}', { 'x-fail': fail }), fail).to.deep.equal({
        status: 500,
        type: 'application/json; charset=utf-8',
        body: { error: { code: 'INTERNAL', message: 'Internal server error' } },
      });
    }
  });

  it('when a fast-path route has a guard or is neither a GET nor a POST, should refuse it at start-up', () => {
    const guarded = { ...thingRoute, guard: 'admin' } as Route;
    const patching = { ...thingRoute, method: 'patch' } as Route;
    for (const route of [guarded, patching])
      expect(() => fastPathFor([route], {} as Deps, '/api/v1', () => '127.0.0.1')).to.throw(
        /a GET or a POST, without a guard/,
      );
  });
});
