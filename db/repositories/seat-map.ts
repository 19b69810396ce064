import type { Db } from '../connection.js';
import { pageAfter, type After } from '../keyset.js';
import { ACTIVE_TICKET_STATUSES, type ActiveTicketStatus, type TicketStatus } from '../../domain/model/tickets.js';

export type SeatStateRow = {
  id: number;
  rowId: number;
  row: string;
  y: number;
  number: number;
  x: number;
  width: number;
  category: string;
  status: ActiveTicketStatus | null;
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
};

export const seatMapRepository = {
  showing: (db: Db, showingId: number): Promise<SeatMapShowing | undefined> =>
    db('showings')
      .first('id', 'hall_id as hallId', 'prices', 'currency', 'seat_version as seatVersion')
      .where('id', showingId),

  /** Every seat of the showing's hall with the status of its active ticket, if any. */
  seatStates: (db: Db, showingId: number): Promise<SeatStateRow[]> =>
    db({ sh: 'showings' })
      .join({ s: 'seats' }, 's.hall_id', 'sh.hall_id')
      .join({ r: 'hall_rows' }, 'r.id', 's.row_id')
      .leftJoin({ t: 'tickets' }, (join) =>
        join.on('t.showing_id', 'sh.id').andOn('t.seat_id', 's.id').andOnIn('t.status', ACTIVE_TICKET_STATUSES),
      )
      .where('sh.id', showingId)
      .select('s.id', 'r.id as rowId', 'r.label as row', 'r.y', 's.number', 's.x', 's.width', 's.category', 't.status')
      .orderBy(['r.y', 's.x']),

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
