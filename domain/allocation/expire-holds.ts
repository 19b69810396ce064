import { ordersRepository } from '../../db/repositories/orders.js';
import { seatVersionsRepository } from '../../db/repositories/seat-versions.js';
import type { Deps } from '../context.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';

const EXPIRY_BATCH = 500;

/** Seats held past their expiry without payment go back on sale; the order becomes `expired`. */
export async function expireHolds(deps: Deps): Promise<number> {
  let expired = 0;
  for (;;) {
    const { orderIds, seats } = await deps.db.transaction(async (trx) => {
      const { orderIds, released } = await ordersRepository.expireHolds(trx, EXPIRY_BATCH);
      return { orderIds, seats: await seatVersionsRepository.bump(trx, released) };
    });
    expired += orderIds.length;
    if (orderIds.length > 0) await publishOrderUpdates(deps, orderIds, seats);
    if (orderIds.length < EXPIRY_BATCH) return expired;
  }
}
