import type { SeatingRules } from '../../domain/model/seating.js';
import type { Db } from '../connection.js';
import { pageAfter, type After } from '../keyset.js';
import { ACTIVE_TICKET_STATUSES, type ActiveTicketStatus, type TicketStatus } from '../../domain/model/tickets.js';

export type SeatStateRow = {
  showingId: number;
  id: number;
  rowId: number;
  row: string;
  y: number;
  number: number;
  x: number;
  width: number;
  category: string;
  status: ActiveTicketStatus | null;
  blocked: boolean;
};

export type TicketRow = {
  id: number;
  orderId: string;
  seatId: number;
  row: string;
  number: number;
  price: number;
  status: TicketStatus;
  createdAt: Date;
  cancelledAt: Date | null;
};

/** What a seat map shows of its showing, with its seat-map version (read in the map's snapshot). */
export type SeatMapShowing = {
  id: number;
  hallId: number;
  prices: Record<string, number>;
  currency: string;
  seatVersion: number;
  /** The hall's best-available settings. */
  seating: SeatingRules;
  startsAt: Date;
  cancelledAt: Date | null;
};

export const seatMapRepository = {
  /** The showings among these that exist, as their seat maps show them. */
  showings: (db: Db, showingIds: number[]): Promise<SeatMapShowing[]> =>
    db({ sh: 'showings' })
      .join({ h: 'halls' }, 'h.id', 'sh.hall_id')
      .select(
        'sh.id',
        'sh.hall_id as hallId',
        'sh.prices',
        'sh.currency',
        'sh.seat_version as seatVersion',
        'h.seating',
        'sh.starts_at as startsAt',
        'sh.cancelled_at as cancelledAt',
      )
      .whereIn('sh.id', showingIds),

  /**
   * Every seat of these showings' halls with the status of its active ticket, if any, and whether it
   * is blocked: by showing, in drawing order.
   */
  seatStates: (db: Db, showingIds: number[]): Promise<SeatStateRow[]> =>
    db({ sh: 'showings' })
      .join({ s: 'seats' }, 's.hall_id', 'sh.hall_id')
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .leftJoin({ t: 'tickets' }, (join) =>
        join.on('t.showing_id', 'sh.id').andOn('t.seat_id', 's.id').andOnIn('t.status', ACTIVE_TICKET_STATUSES),
      )
      .leftJoin({ b: 'seat_blocks' }, (join) => join.on('b.showing_id', 'sh.id').andOn('b.seat_id', 's.id'))
      .whereIn('sh.id', showingIds)
      .select(
        'sh.id as showingId',
        's.id',
        'r.id as rowId',
        'r.label as row',
        'r.y',
        's.number',
        's.x',
        's.width',
        's.category',
        't.status',
        db.raw('b.seat_id IS NOT NULL AS blocked'),
      )
      .orderBy(['sh.id', 'r.y', 's.x']),

  tickets: (
    db: Db,
    { showingId, status, after, limit }: { showingId: number; status?: TicketStatus; after?: After; limit: number },
  ): Promise<TicketRow[]> => {
    const query = db({ t: 'tickets' })
      .join({ s: 'seats' }, 's.id', 't.seat_id')
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .where('t.showing_id', showingId)
      .select(
        't.id',
        't.order_id as orderId',
        't.seat_id as seatId',
        'r.label as row',
        's.number',
        't.price',
        't.status',
        't.created_at as createdAt',
        't.cancelled_at as cancelledAt',
      );
    if (status !== undefined) query.where('t.status', status);
    return pageAfter(query, { sortColumn: 't.id', idColumn: 't.id', after, limit });
  },
};
