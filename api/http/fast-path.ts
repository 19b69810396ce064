import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Deps } from '../../domain/context.js';
import { DomainError } from '../../domain/errors.js';
import { errorResponse } from './errors.js';
import { answerOf, type Answer } from './respond.js';
import { labelRoute } from './route-label.js';
import { withClient, type Route } from './route.js';
import { parseInput } from './validate.js';

/** The largest JSON body any route takes (express.json's limit too). */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** `pattern`: the route's full path, its name in the metrics and the access log. */
type Candidate = { route: Route; method: string; segments: string[]; pattern: string };

/**
 * Routes marked `fastPath`, served straight from node:http in front of express: the requests every
 * purchase and every visitor make (submit an order, poll it, load a seat map or a schedule).
 * Express 5 gives the req and res of every request a new prototype and walks its router: measured
 * here, that was 70 µs of the API's ~200 µs of CPU per order (a bare node:http handler costs 35 µs
 * in all; docs/decisions/001-submit-fast-path.md). Only the plain case is taken: the route's exact
 * path (parameters decoded as express decodes them), a query string only where the route reads one
 * (parsed as express's `simple` parser does), a UTF-8 JSON body with a Content-Length and no
 * Content-Encoding for a POST and no body at all for a GET. Any other request goes on to express,
 * which answers it as for every route. The route's schemas, handler, error codes, headers and
 * answer are the same on both paths; middleware added to the express app does not run here.
 *
 * Returns a function that serves the request and returns true, or returns false and leaves it.
 */
export function fastPathFor(
  routes: Route[],
  deps: Deps,
  base: string,
  clientOf: (req: IncomingMessage) => string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const candidates: Candidate[] = routes
    .filter((route) => route.fastPath)
    .map((route) => {
      if (route.guard || route.operatorView || (route.method !== 'get' && route.method !== 'post')) {
        throw new Error(`${route.method} ${route.path}: a fast-path route is a GET or a POST, without a guard`);
      }
      const pattern = `${base}${route.path}`;
      return { route, method: route.method.toUpperCase(), segments: pattern.split('/'), pattern };
    });
  return (req, res) => {
    const matched = match(candidates, req);
    if (!matched) return false;
    serve(matched, req, res, deps, clientOf).catch((error: unknown) => {
      deps.log.error({ err: error, method: req.method, url: req.url }, 'fast path could not answer');
      res.destroy();
    });
    return true;
  };
}

type Matched = { route: Route; params: Record<string, string>; query: Record<string, unknown> };

function match(candidates: Candidate[], req: IncomingMessage): Matched | undefined {
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  const segments = (queryAt < 0 ? url : url.slice(0, queryAt)).split('/');
  for (const { route, method, segments: pattern, pattern: label } of candidates) {
    if (req.method !== method || segments.length !== pattern.length) continue;
    if (queryAt >= 0 && !route.query) continue;
    if (!(method === 'GET' ? hasNoBody(req) : hasPlainJsonBody(req))) continue;
    const params: Record<string, string> = {};
    const fits = pattern.every((part, index) => {
      const given = segments[index]!;
      if (!part.startsWith(':')) return part === given;
      const value = decoded(given);
      if (value === undefined || value === '') return false;
      params[part.slice(1)] = value;
      return true;
    });
    if (fits) {
      labelRoute(req, label);
      return { route, params, query: queryAt < 0 ? {} : parseQueryString(url.slice(queryAt + 1)) };
    }
  }
  return undefined;
}

/** A path segment decoded as express decodes parameters; undefined (express's to answer) when malformed. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function hasNoBody({ headers }: IncomingMessage): boolean {
  return (
    (headers['content-length'] === undefined || headers['content-length'] === '0') &&
    headers['transfer-encoding'] === undefined
  );
}

/** The common spellings only; any other (quoted charset, odd spacing) is express's to judge. */
const PLAIN_JSON_TYPE = /^application\/json(?:;[ \t]*charset=utf-8)?$/i;

function hasPlainJsonBody(req: IncomingMessage): boolean {
  const { headers } = req;
  const length = Number(headers['content-length']);
  return (
    length > 0 &&
    length <= JSON_BODY_LIMIT &&
    headers['content-encoding'] === undefined &&
    headers['transfer-encoding'] === undefined &&
    PLAIN_JSON_TYPE.test(headers['content-type'] ?? '')
  );
}

async function serve(
  { route, params, query }: Matched,
  req: IncomingMessage,
  res: ServerResponse,
  deps: Deps,
  clientOf: (req: IncomingMessage) => string,
) {
  const { status, headers, bytes } = await answer(route, req, params, query, deps, () => clientOf(req)).catch(
    (error: unknown): Answer => {
      const { status, body, headers } = errorResponse(error, deps.log, { method: req.method, url: req.url });
      return {
        status,
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        bytes: Buffer.from(JSON.stringify(body)),
      };
    },
  );
  if (bytes === undefined) res.writeHead(status, headers).end();
  else res.writeHead(status, { ...headers, 'content-length': bytes.length }).end(bytes);
}

/** The answer, serialised: a body that cannot be serialised fails here and is answered as an error. */
async function answer(
  route: Route,
  req: IncomingMessage,
  params: Record<string, string>,
  query: Record<string, unknown>,
  deps: Deps,
  client: () => string,
): Promise<Answer> {
  const body = req.method === 'POST' ? parseJson(await readBody(req)) : undefined;
  const input = withClient(parseInput(route, { params, query, headers: req.headers, body }), client);
  return answerOf(route, await route.handler(input as Parameters<Route['handler']>[0], deps), req.headers);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new DomainError('MALFORMED_JSON', 'The request body could not be read')));
  });
}

/** As express.json parses (strict): an object or an array, after an optional byte-order mark. */
function parseJson(text: string): unknown {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const first = json.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(json);
    } catch {
      // answered below, as a body express.json would refuse
    }
  }
  throw new DomainError('MALFORMED_JSON', 'The request body is not valid JSON');
}
