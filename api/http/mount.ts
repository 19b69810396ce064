import { Router, type RequestHandler } from 'express';
import type { Deps } from '../../domain/context.js';
import { requireBearer } from './auth.js';
import { answerOf } from './respond.js';
import { labelRoute } from './route-label.js';
import { GUARDS, type Guard, type Route } from './route.js';
import { validate } from './validate.js';

/** The routes on an express router mounted at `base` (the prefix of the patterns the metrics and logs name). */
export function routerFor(routes: Route[], deps: Deps, base = ''): Router {
  const router = Router();
  const guards = Object.fromEntries(
    Object.entries(GUARDS).map(([guard, { setting, name }]) => [guard, requireBearer(deps.config[setting], name)]),
  ) as Record<Guard, RequestHandler>;
  for (const route of routes) {
    const pattern = `${base}${route.path}`;
    router[route.method](
      route.path,
      (req, _res, next) => {
        labelRoute(req, pattern);
        next();
      },
      ...(route.guard ? [guards[route.guard]] : []),
      validate(route),
      async (req, res) => {
        const { status, headers, bytes } = answerOf(route, await route.handler(res.locals.input, deps), req.headers);
        res.status(status).set(headers);
        if (bytes === undefined) res.end();
        else res.send(bytes);
      },
    );
  }
  return router;
}
