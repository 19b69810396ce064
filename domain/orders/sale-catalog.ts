import type { Db } from '../../db/connection.js';
import { saleCatalogRepository } from '../../db/repositories/sale-catalog.js';
import type { SaleShowing, SeatInfo } from '../model/orders.js';
import type { CacheFactory } from '../ports.js';

// A showing's sale state may change (cancelled); some staleness is harmless because the allocation
// transaction checks again: at worst an order is queued and then rejected. Seats of a hall with
// showings cannot change at all.
const SHOWING_TTL_MS = 10_000;
const HALL_SEATS_TTL_MS = 60_000;

export type SaleCatalog = ReturnType<typeof createSaleCatalog>;

/** The reads every submit makes, served from this process's memory: a burst for one showing costs one query. */
export function createSaleCatalog(db: Db, cache: CacheFactory) {
  const showings = cache<number, SaleShowing | undefined>(SHOWING_TTL_MS, async (id) => {
    const [showing] = await saleCatalogRepository.showings(db, [id]);
    return showing;
  });
  const hallSeats = cache<number, Map<number, SeatInfo>>(HALL_SEATS_TTL_MS, async (hallId) => {
    const seats = await saleCatalogRepository.hallSeats(db, hallId);
    return new Map(seats.map((seat) => [seat.id, seat]));
  });
  return {
    showing: async (id: number) => {
      const showing = await showings.get(id);
      // A showing created a moment ago must not stay "not found" for the cache's lifetime.
      if (!showing) showings.forget(id);
      return showing;
    },
    hallSeats: (hallId: number) => hallSeats.get(hallId),
  };
}
