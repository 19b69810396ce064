import type { Db } from '../connection.js';
import { ACTIVE_TICKET_STATUSES } from './orders.js';
import { seatVersionsRepository, type SeatDelta, type TicketChange } from './seat-versions.js';

type ActiveTicket = { id: number; orderId: string; price: number };

type CancellableOrder = { id: string; status: string; currency: string };

/** Soft deletes: a cancelled ticket keeps its row and gets `cancelled_at`, leaving the active set. */
export const cancellationsRepository = {
  activeTickets: (trx: Db, orderIds: string[]): Promise<ActiveTicket[]> =>
    trx('tickets')
      .select('id', 'order_id as orderId', 'price')
      .whereIn('order_id', orderIds)
      .whereIn('status', ACTIVE_TICKET_STATUSES)
      .orderBy('id'),

  /** Returns the seat-map deltas. */
  cancelTickets: async (trx: Db, ticketIds: number[]): Promise<SeatDelta[]> => {
    const changed: TicketChange[] = await trx('tickets')
      .whereIn('id', ticketIds)
      .whereIn('status', ACTIVE_TICKET_STATUSES)
      .update({ status: 'cancelled', cancelled_at: trx.fn.now() })
      .returning(['showing_id as showingId', 'seat_id as seatId', 'status']);
    return seatVersionsRepository.bump(trx, changed);
  },

  markShowingCancelled: (trx: Db, showingId: number) =>
    trx('showings').where('id', showingId).update({ cancelled_at: trx.fn.now() }),

  /** The showing's orders that hold or own seats, locked against the payment saga. */
  lockActiveOrdersOfShowing: (trx: Db, showingId: number): Promise<CancellableOrder[]> =>
    trx('orders')
      .select('id', 'status', 'currency')
      .where('showing_id', showingId)
      .whereIn('status', ['awaiting_payment', 'confirmed'])
      .orderBy('id')
      .forUpdate(),
};
