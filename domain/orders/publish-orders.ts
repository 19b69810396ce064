import type { Deps } from '../context.js';
import type { OrderView } from '../model/orders.js';
import type { SeatDelta } from '../model/tickets.js';
import { readOrderViewsWithRequestIds } from './order-view-reads.js';

/**
 * After a commit: tells everyone listening (waiting POSTs, realtime) the orders' current state and
 * the seat-map deltas that changed with them, in one publication. Returns the views it read.
 *
 * Every change after the decision comes through here (the payment saga, cancellations, expired
 * holds), so this is where each gets its log line, under the request id the order was submitted with.
 */
export async function publishOrderUpdates(deps: Deps, ids: string[], seats: SeatDelta[] = []): Promise<OrderView[]> {
  const { views, requestIds } =
    ids.length > 0 ? await readOrderViewsWithRequestIds(deps.db, ids) : { views: [], requestIds: {} };
  for (const view of views) {
    deps.log.info(
      {
        orderId: view.id,
        requestId: requestIds[view.id],
        status: view.status,
        paymentStatus: view.paymentStatus,
        reason: view.reason,
        version: view.version,
      },
      'order updated',
    );
  }
  await deps.events.publish(views, seats, { requestIds });
  return views;
}
