import type { IncomingMessage } from 'node:http';

const ROUTE = Symbol('route');
type Labelled = IncomingMessage & { [ROUTE]?: string };

/** What the metrics and the access log call a request no route took. */
export const UNMATCHED = 'unmatched';

/**
 * Names the route serving a request by its pattern (`/api/v1/orders/:id`), never by its URL: the
 * metrics' `route` label stays a small set, and no id or token of a URL reaches the logs.
 */
export function labelRoute(req: IncomingMessage, pattern: string): void {
  (req as Labelled)[ROUTE] = pattern;
}

export const routeOf = (req: IncomingMessage): string => (req as Labelled)[ROUTE] ?? UNMATCHED;
