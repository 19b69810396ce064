import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../../domain/context.js';
import { DomainError } from '../../domain/errors.js';
import { errorResponse } from './errors.js';
import { replyOf, type Route } from './route.js';
import { parseInput } from './validate.js';

/** The largest JSON body any route takes (express.json's limit too). */
export const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * Routes marked `fastPath`, served straight from node:http in front of express. Express 5 gives the
 * req and res of every request a new prototype and walks its router: measured here, that was 70 µs
 * of the API's ~200 µs of CPU per order (a bare node:http handler costs 35 µs in all), and the API
 * is the largest share of the order path's CPU. Only the plain case is taken: the exact path with
 * no query string and a UTF-8 JSON body with a Content-Length and no Content-Encoding. Any other
 * request (compressed, chunked, another charset or type) goes on to express, which answers it as
 * for every route. The route's schemas, handler and error codes are the same on both paths, and so
 * is the answer; middleware added to the express app does not run here.
 *
 * Returns a function that serves the request and returns true, or returns false and leaves it.
 */
export function fastPathFor(
  routes: Route[],
  deps: Deps,
  base: string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const byTarget = new Map<string, Route>();
  for (const route of routes.filter((candidate) => candidate.fastPath)) {
    if (route.guard || route.params || route.path.includes(':')) {
      throw new Error(`${route.method} ${route.path}: a fast-path route takes no guard and no path parameters`);
    }
    byTarget.set(`${route.method.toUpperCase()} ${base}${route.path}`, route);
  }
  return (req, res) => {
    const route = byTarget.get(`${req.method} ${req.url}`);
    if (!route || !hasPlainJsonBody(req)) return false;
    serve(route, req, res, deps).catch((error: unknown) => {
      deps.log.error({ err: error, method: req.method, url: req.url }, 'fast path could not answer');
      res.destroy();
    });
    return true;
  };
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

async function serve(route: Route, req: IncomingMessage, res: ServerResponse, deps: Deps): Promise<void> {
  const { status, text } = await answer(route, req, deps).catch((error: unknown) => {
    const { status, body } = errorResponse(error, deps.log, { method: req.method, url: req.url });
    return { status, text: JSON.stringify(body) };
  });
  if (status === 204) res.writeHead(204).end();
  else
    res
      .writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      })
      .end(text);
}

/** The reply as JSON text: a body that cannot be serialised fails here and is answered as an error. */
async function answer(route: Route, req: IncomingMessage, deps: Deps): Promise<{ status: number; text: string }> {
  const input = parseInput(route, {
    params: {},
    query: {},
    headers: req.headers,
    body: parseJson(await readBody(req)),
  });
  const { status, body } = replyOf(route, await route.handler(input as Parameters<Route['handler']>[0], deps));
  return { status, text: status === 204 ? '' : (JSON.stringify(body) ?? '') };
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
