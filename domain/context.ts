import type { Db } from '../db/connection.js';
import type { Config } from './config.js';
import type { OrderInserts } from './orders/order-inserts.js';
import type { SaleCatalog } from './orders/sale-catalog.js';
import type { Jobs, Logger, SaleEvents } from './ports.js';

/** What a use case may touch. Built once per process by the host (host/deps.ts) and handed to every use case. */
export type Deps = {
  db: Db;
  config: Config;
  log: Logger;
  jobs: Jobs;
  events: SaleEvents;
  /** What a submit checks, read through caches. */
  saleCatalog: SaleCatalog;
  /** The batched INSERT that makes orders durable. */
  orderInserts: OrderInserts;
};
