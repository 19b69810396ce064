import { catalogRoutes } from './catalog/routes.js';
import type { Route } from './http/route.js';
import { orderRoutes, showingSalesRoutes } from './orders/routes.js';
import { paymentServiceRoutes } from './payment-service/routes.js';

/** The HTTP surface each HTTP role serves; a process running several roles serves their union. */
export const routesByRole: Record<'catalog' | 'tickets' | 'payments', Route[]> = {
  catalog: catalogRoutes,
  tickets: [...orderRoutes, ...showingSalesRoutes],
  payments: paymentServiceRoutes,
};
