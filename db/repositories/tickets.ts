import type { SeatDelta, TicketChange, TicketStatus } from '../../domain/model/tickets.js';
import { ACTIVE_TICKET_STATUSES } from '../../domain/model/tickets.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';
import { seatVersionsRepository } from './seat-versions.js';

/**
 * Tickets after the allocation wrote them: sold or released with their payment's outcome,
 * cancelled by buyers and cinemas (soft deletes: a cancelled ticket keeps its row and gets
 * `cancelled_at`, leaving the active set). Every change bumps its showings' seat-map versions in
 * the same transaction and returns the deltas to publish.
 */
export const ticketsRepository = {
  /**
   * Which of these (showing, seat) pairs an active ticket holds or a block takes right now: one lookup
   * each in the partial unique index (its predicate spelled as a literal, so a prepared plan can use
   * it) and in the blocks' key.
   */
  unavailableAmong: async (
    db: Db,
    showingIds: number[],
    seatIds: number[],
  ): Promise<{ showingId: number; seatId: number; blocked: boolean }[]> =>
    runPrepared(
      db,
      'tickets-unavailable-among',
      `SELECT t.showing_id AS "showingId", t.seat_id AS "seatId", false AS blocked
       FROM unnest($1::bigint[], $2::bigint[]) AS wanted(showing_id, seat_id)
       JOIN tickets t ON t.showing_id = wanted.showing_id AND t.seat_id = wanted.seat_id AND t.status IN ('held', 'sold')
       UNION ALL
       SELECT b.showing_id, b.seat_id, true
       FROM unnest($1::bigint[], $2::bigint[]) AS wanted(showing_id, seat_id)
       JOIN seat_blocks b ON b.showing_id = wanted.showing_id AND b.seat_id = wanted.seat_id`,
      [showingIds, seatIds],
    ),

  /** Moves the order's held tickets on with its payment's outcome. */
  settleHeld: async (
    trx: Db,
    orderId: string,
    to: Extract<TicketStatus, 'sold' | 'released'>,
  ): Promise<SeatDelta[]> => {
    const changed: TicketChange[] = await trx('tickets')
      .where({ order_id: orderId, status: 'held' })
      .update({ status: to, sold_at: to === 'sold' ? trx.fn.now() : null })
      .returning(['showing_id as showingId', 'seat_id as seatId', 'status']);
    return seatVersionsRepository.bump(trx, changed);
  },

  active: (trx: Db, orderIds: string[]): Promise<{ id: number; orderId: string; price: number }[]> =>
    trx('tickets')
      .select('id', 'order_id as orderId', 'price')
      .whereIn('order_id', orderIds)
      .whereIn('status', ACTIVE_TICKET_STATUSES)
      .orderBy('id'),

  cancel: async (trx: Db, ticketIds: number[]): Promise<SeatDelta[]> => {
    const changed: TicketChange[] = await trx('tickets')
      .whereIn('id', ticketIds)
      .whereIn('status', ACTIVE_TICKET_STATUSES)
      .update({ status: 'cancelled' satisfies TicketStatus, cancelled_at: trx.fn.now() })
      .returning(['showing_id as showingId', 'seat_id as seatId', 'status']);
    return seatVersionsRepository.bump(trx, changed);
  },
};
