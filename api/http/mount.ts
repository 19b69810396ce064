import { Router, type RequestHandler } from 'express';
import type { Deps } from '../../domain/context.js';
import { requireActor, requireBearer } from './auth.js';
import { addressBucket } from './rate-limits.js';
import { answerOf } from './respond.js';
import { labelRoute } from './route-label.js';
import { withClient, type Guard, type Route } from './route.js';
import { validate } from './validate.js';

/** The routes on an express router mounted at `base` (the prefix of the patterns the metrics and logs name). */
export function routerFor(routes: Route[], deps: Deps, base = ''): Router {
  const router = Router();
  const guards: Record<Guard, RequestHandler> = {
    admin: requireActor(deps, { operators: false, optional: false }),
    manager: requireActor(deps, { operators: true, optional: false }),
    serviceKey: requireBearer(deps.config.PAYMENT_SERVICE_KEY, 'payment service key'),
  };
  const operatorView = requireActor(deps, { operators: true, optional: true });
  for (const route of routes) {
    const pattern = `${base}${route.path}`;
    router[route.method](
      route.path,
      (req, _res, next) => {
        labelRoute(req, pattern);
        next();
      },
      ...(route.guard ? [guards[route.guard]] : route.operatorView ? [operatorView] : []),
      validate(route),
      async (req, res) => {
        const input = withClient({ ...res.locals.input, actor: res.locals.actor }, () =>
          addressBucket(req.ip ?? 'unknown'),
        );
        const { status, headers, bytes } = answerOf(route, await route.handler(input, deps), req.headers);
        res.status(status).set(headers);
        if (bytes === undefined) res.end();
        else res.send(bytes);
      },
    );
  }
  return router;
}
