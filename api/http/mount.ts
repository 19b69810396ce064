import { Router, type RequestHandler } from 'express';
import type { Deps } from '../../domain/context.js';
import { requireBearer } from './auth.js';
import { GUARDS, replyOf, type Guard, type Route } from './route.js';
import { validate } from './validate.js';

export function routerFor(routes: Route[], deps: Deps): Router {
  const router = Router();
  const guards = Object.fromEntries(
    Object.entries(GUARDS).map(([guard, { setting, name }]) => [guard, requireBearer(deps.config[setting], name)]),
  ) as Record<Guard, RequestHandler>;
  for (const route of routes) {
    router[route.method](
      route.path,
      ...(route.guard ? [guards[route.guard]] : []),
      validate(route),
      async (_req, res) => {
        const { status, body } = replyOf(route, await route.handler(res.locals.input, deps));
        if (status === 204) res.status(204).end();
        else res.status(status).json(body);
      },
    );
  }
  return router;
}
