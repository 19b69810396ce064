import { Router } from 'express';
import type { Deps } from '../../domain/context.js';
import { requireBearer } from './auth.js';
import { Reply, type Route } from './route.js';
import { validate } from './validate.js';

export function routerFor(routes: Route[], deps: Deps): Router {
  const router = Router();
  const admin = requireBearer(deps.config.ADMIN_TOKEN, 'admin token');
  const serviceKey = requireBearer(deps.config.PAYMENT_SERVICE_KEY, 'payment service key');
  for (const route of routes) {
    const guards = route.admin ? [admin] : route.serviceKey ? [serviceKey] : [];
    router[route.method](route.path, ...guards, validate(route), async (req, res) => {
      const result = await route.handler({ ...res.locals.input, req }, deps);
      const { status, body } = result instanceof Reply ? result : { status: route.status ?? 200, body: result };
      if (status === 204) res.status(204).end();
      else res.status(status).json(body);
    });
  }
  return router;
}
