import type { Deps } from '../context.js';
import type { OrderView } from '../model/orders.js';
import type { SeatDelta } from '../model/tickets.js';
import { readOrderViews } from './order-view-reads.js';

/**
 * After a commit: tells everyone listening (waiting POSTs, realtime) the orders' current state and
 * the seats that changed with them, in one publication. Returns the views it read.
 */
export async function publishOrderUpdates(deps: Deps, ids: string[], seats: SeatDelta[] = []): Promise<OrderView[]> {
  const views = ids.length > 0 ? await readOrderViews(deps.db, ids) : [];
  await deps.events.publish(views, seats);
  return views;
}
