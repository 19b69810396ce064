/**
 * A ticket is one seat of one showing for one order. Tickets are never deleted: a released or
 * cancelled one keeps its row and leaves the active set, so its seat is on sale again.
 *
 *   held ──► sold ──► cancelled
 *     ├──► released (hold expired, card declined, payment unresolved)
 *     └──► cancelled (the buyer or the cinema cancelled)
 *
 * A ticket starts `held` (a payment follows) or `sold` (CONFIRM_WITHOUT_PAYMENT).
 */
export const TICKET_TRANSITIONS = {
  held: ['sold', 'released', 'cancelled'],
  sold: ['cancelled'],
  released: [],
  cancelled: [],
} as const;

export type TicketStatus = keyof typeof TICKET_TRANSITIONS;

export const TICKET_STATUSES = Object.keys(TICKET_TRANSITIONS) as [TicketStatus, ...TicketStatus[]];

export const INITIAL_TICKET_STATUSES = ['held', 'sold'] as const satisfies readonly TicketStatus[];

/** Tickets that occupy their seat: at most one per showing and seat (a partial unique index). */
export const ACTIVE_TICKET_STATUSES = ['held', 'sold'] as const satisfies readonly TicketStatus[];
export type ActiveTicketStatus = (typeof ACTIVE_TICKET_STATUSES)[number];

export const isTicketTransition = (from: TicketStatus, to: TicketStatus): boolean =>
  (TICKET_TRANSITIONS[from] as readonly TicketStatus[]).includes(to);

/** A seat as a seat map shows it: free, taken by an active ticket, or blocked by the cinema for this showing. */
export const SEAT_STATUSES = ['free', 'held', 'sold', 'blocked'] as const;
export type SeatStatus = (typeof SEAT_STATUSES)[number];

export const seatStatusOf = (ticket: TicketStatus | null): SeatStatus =>
  ticket === 'held' || ticket === 'sold' ? ticket : 'free';

/** A ticket the allocation writes for a decided order. */
export type NewTicket = {
  orderId: string;
  showingId: number;
  hallId: number;
  seatId: number;
  price: number;
  status: (typeof INITIAL_TICKET_STATUSES)[number];
};

/** A ticket that changed, with its new status. */
export type TicketChange = { showingId: number; seatId: number; status: TicketStatus };

/** What one transaction changed on one showing's seat map, and the map's version after it. */
export type SeatDelta = { showingId: number; version: number; seats: { id: number; status: SeatStatus }[] };
