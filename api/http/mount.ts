import { Router, type RequestHandler } from 'express';
import type { Deps } from '../../domain/context.js';
import { requireBearer } from './auth.js';
import { answerOf } from './respond.js';
import { GUARDS, type Guard, type Route } from './route.js';
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
