import type { Db } from '../db/connection.js';
import type { Schedules } from './catalog/schedule-reads.js';
import type { Config } from './config.js';
import type { OrderInserts } from './orders/order-inserts.js';
import type { OrderViews } from './orders/order-view-reads.js';
import type { SaleCatalog } from './orders/sale-catalog.js';
import type { SeatMaps } from './orders/seat-map-reads.js';
import type { Jobs, Logger, Metrics, SaleEvents } from './ports.js';

/** What a use case may touch. Built once per process by the host (host/deps.ts) and handed to every use case. */
export type Deps = {
  db: Db;
  config: Config;
  log: Logger;
  metrics: Metrics;
  jobs: Jobs;
  events: SaleEvents;
  /** What a submit checks, read through caches. */
  saleCatalog: SaleCatalog;
  /** The batched INSERT that makes orders durable. */
  orderInserts: OrderInserts;
  /** Seat maps and schedules, served from memory while the version probe says they are current. */
  seatMaps: SeatMaps;
  schedules: Schedules;
  /** Orders as buyers see them, answered from memory while the order's version says they are current. */
  orderViews: OrderViews;
};
