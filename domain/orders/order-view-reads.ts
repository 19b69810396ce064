import type { Db } from '../../db/connection.js';
import { ordersRepository } from '../../db/repositories/orders.js';
import { setBounded } from '../bounded.js';
import { deepFreeze } from '../frozen.js';
import type { OrderView } from '../model/orders.js';
import type { BatcherFactory, SaleEvents } from '../ports.js';
import { toOrderView } from './view.js';

/** Orders whose latest view this process keeps; the oldest go first. */
const MAX_ORDERS = 50_000;

export type OrderViews = ReturnType<typeof createOrderViews>;

/** The orders as buyers see them, read in full from the database; missing ones are left out. */
export async function readOrderViews(db: Db, ids: string[]): Promise<OrderView[]> {
  return (await readOrderViewsWithRequestIds(db, ids)).views;
}

/** readOrderViews, with the request id each order was submitted with (by order id, for those that have one). */
export async function readOrderViewsWithRequestIds(
  db: Db,
  ids: string[],
): Promise<{ views: OrderView[]; requestIds: Record<string, string> }> {
  const found = await ordersRepository.withSeats(db, ids);
  const requestIds: Record<string, string> = {};
  for (const { order } of found) if (order.requestId) requestIds[order.id] = order.requestId;
  return { views: found.map(({ order, seats }) => toOrderView(order, seats)), requestIds };
}

/**
 * The order views of one process, kept from every view published after a commit (the intake's
 * queued orders, every decision, payment and cancellation) and from full reads. A poll asks the
 * database only for the order's version, in one statement shared by every poll arriving meanwhile
 * (one in flight per process, started after the poll arrived), and is answered from memory when this
 * process holds that version: exact, at the cost of an index lookup instead of two joins.
 */
export function createOrderViews(db: Db, events: SaleEvents, batcher: BatcherFactory) {
  const latest = new Map<string, OrderView>();
  let listening: Promise<unknown> | undefined;

  const keep = (view: OrderView) => {
    const held = latest.get(view.id);
    if (held && held.version >= view.version) return held;
    const frozen = deepFreeze(view);
    setBounded(latest, MAX_ORDERS, view.id, frozen);
    return frozen;
  };

  const probes = batcher<string, number | undefined>(
    async (ids) => {
      const versions = await ordersRepository.versions(db, [...new Set(ids)]);
      return ids.map((id) => versions.get(id));
    },
    { windowMs: 0, maxSize: 500, maxInFlight: 1 },
  );

  /** Starts hearing publications, once; without them (Redis away) reads still answer exactly, from the database. */
  const hearPublications = () => {
    listening ??= events.listen(({ orders }) => orders.forEach(keep)).catch(() => (listening = undefined));
    return listening;
  };

  return {
    /** The order as it is now (undefined for no such order). */
    async read(id: string): Promise<OrderView | undefined> {
      await hearPublications();
      const version = await probes.add(id);
      if (version === undefined) return undefined;
      const held = latest.get(id);
      if (held && held.version >= version) return held;
      const [found] = await readOrderViews(db, [id]);
      return found && keep(found);
    },

    /** The newest view of the order this process has heard of, without asking the database. */
    async heard(id: string): Promise<OrderView | undefined> {
      await hearPublications();
      return latest.get(id);
    },

    /** Keeps a view this process made itself (the queued view the intake answers with). */
    keep,
    hearPublications,
    drain: () => probes.drain(),
  };
}
