import { catalogRoutes } from '../api/catalog/routes.js';
import type { Route } from '../api/http/route.js';
import { orderRoutes, showingSalesRoutes } from '../api/orders/routes.js';
import { seatingRoutes } from '../api/seating/routes.js';
import { operatorRoutes } from '../api/operators/routes.js';
import { statisticsRoutes } from '../api/statistics/routes.js';
import { BOOKING_MIGRATIONS } from '../db/migrate.js';
import type { Deps } from '../domain/context.js';
import {
  createPaymentSimulator,
  PROVIDER_FAULT_SETTINGS,
  PROVIDER_MIGRATIONS,
  PROVIDER_SCHEMA,
  providerSettings,
  type ProviderConfig,
} from '../simulators/payment-provider/index.js';

/**
 * The role map: what each role a process can run brings. `catalog`, `tickets` and `payments` serve
 * HTTP routes; `workers` runs the queue consumers and sweeps (workers/role.ts), `realtime` the
 * Socket.IO server (realtime/server.ts). `payments` is the payment simulator, a stand-in for an
 * external card processor; this is the only module that knows it exists.
 */
export const ROLES = ['catalog', 'tickets', 'workers', 'payments', 'realtime'] as const;
export type Role = (typeof ROLES)[number];

/** Settings of the systems served beside the booking system: the simulator's PROVIDER_*. */
export const roleSettings = providerSettings;

/** Settings that default to off in production: the simulator's random faults. */
export const OFF_IN_PRODUCTION = PROVIDER_FAULT_SETTINGS;

/** Roles that stand in for an outside system: production runs them only when told to. */
export const STAND_IN_ROLES: readonly Role[] = ['payments'];

/** Every migration a process applies before it starts its roles: the booking system's and the simulator's. */
export const MIGRATIONS = { ...BOOKING_MIGRATIONS, ...PROVIDER_MIGRATIONS };

/** The schemas those migrations fill: what a reset of the demo data empties. */
export const DATA_SCHEMAS = ['public', PROVIDER_SCHEMA];

/** The roles whose routes make the public booking API behind the entry (the simulator is internal). */
export const PUBLIC_API_ROLES: readonly Role[] = ['catalog', 'tickets'];

/** The HTTP surface of each HTTP role. */
export function routesByRole(deps: Deps, config: ProviderConfig): Record<'tickets' | 'catalog' | 'payments', Route[]> {
  return {
    tickets: orderRoutes,
    // Seat maps and a showing's sales are read by every visitor: they scale with the catalog, apart from buying.
    catalog: [...catalogRoutes, ...showingSalesRoutes, ...seatingRoutes, ...operatorRoutes, ...statisticsRoutes],
    payments: createPaymentSimulator(config, deps.db).routes,
  };
}

/** The routes of the HTTP roles among `roles`; a process running several serves their union. */
export function httpRoutes(roles: readonly Role[], byRole: ReturnType<typeof routesByRole>): Route[] {
  // Tickets first: buying is the most frequent request, and express tries routes in order.
  return (['tickets', 'catalog', 'payments'] as const)
    .filter((role) => roles.includes(role))
    .flatMap((role) => byRole[role]);
}
