/**
 * A stand-in for an external card processor, with that processor's faults: the `payments` role.
 * It is a separate system that happens to live in this repository: its own settings, routes,
 * errors and tables (schema payment_service). It shares the HTTP toolkit (api/http) and the bearer key
 * PAYMENT_SERVICE_KEY with the booking system, and nothing else. Only the role map (host/roles.ts)
 * imports it; the booking system reaches it over HTTP like any processor (infra/payment-client.ts).
 */
import type { Knex } from 'knex';
import { createPaymentBehaviour } from './behaviour.js';
import type { ProviderConfig } from './config.js';
import * as schema from './migration.js';
import { providerRoutes } from './routes.js';

export { PROVIDER_FAULT_SETTINGS, providerSettings, type ProviderConfig } from './config.js';
export { PROVIDER_SCHEMA } from './storage.js';

/**
 * Its schema, run with the booking system's migrations in one list. The name is the one it had when
 * it was one of them, so databases migrated before it moved here see it applied.
 */
export const PROVIDER_MIGRATIONS: Record<string, Knex.Migration> = { '002_payment_service': schema };

/** The processor as one process serves it: its routes, over the behaviour this process starts with. */
export function createPaymentSimulator(config: ProviderConfig, db: Knex) {
  return { routes: providerRoutes({ db, behaviour: createPaymentBehaviour(config) }) };
}
