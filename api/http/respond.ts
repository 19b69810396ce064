import type { IncomingHttpHeaders } from 'node:http';
import { replyOf, type Route } from './route.js';
import { csvOf, wantsCsv } from './csv.js';
import { bytesOf } from './serialize.js';

/** The answer to send: status, headers and the body as UTF-8 JSON, or CSV where the route has a table and the client asks for it (none for 204 and 304). */
export type Answer = { status: number; headers: Record<string, string>; bytes: Buffer | undefined };

/** A body as UTF-8 JSON (a frozen body's bytes are kept with it); throws for a body that cannot be serialised. */
function serialise(body: unknown): Buffer {
  const bytes = bytesOf(body);
  if (bytes === undefined) throw new TypeError('the reply has no JSON form');
  return bytes;
}

/** Whether an If-None-Match header names this entity tag (weak comparison, as RFC 9110 asks for GET). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** What a handler returned, as the answer to send: the one place both HTTP paths turn results into bytes. */
export function answerOf(route: Route, result: unknown, requestHeaders: IncomingHttpHeaders): Answer {
  const { status, body, headers } = replyOf(route, result);
  // Only a read is answered 304: an ETag on a write's answer names what it created.
  if (
    route.method === 'get' &&
    status === 200 &&
    headers.etag &&
    matches(requestHeaders['if-none-match'], headers.etag)
  ) {
    return { status: 304, headers, bytes: undefined };
  }
  if (status === 204) return { status, headers, bytes: undefined };
  if (route.csv && wantsCsv(requestHeaders.accept)) {
    const csv = csvOf(route.csv(body));
    return { status, headers: { ...headers, ...csv.headers }, bytes: csv.bytes };
  }
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, bytes: serialise(body) };
}
