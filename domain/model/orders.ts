import type { DecidedStatus, OrderStatus } from './order-states.js';
import type { PaymentStatus } from './payments.js';
import type { TicketStatus } from './tickets.js';
import type { BestRequest, SeatingRules } from './seating.js';

/** An order as stored. */
export type Order = {
  id: string;
  /** Arrival number: the allocation decides a partition's orders in this order. */
  seq: number;
  showingId: number;
  status: OrderStatus;
  /** The seats asked for, or for a "best N" order the seats chosen for it (none until decided). */
  seatIds: number[];
  /** A "best N" order: what was asked for instead of seat ids. */
  best: BestRequest | null;
  customerEmail: string;
  customerName: string | null;
  total: number | null;
  currency: string;
  holdExpiresAt: Date | null;
  rejectedSeatIds: number[] | null;
  /** Machine-readable reason for rejected, expired, failed and cancelled orders (SEAT_TAKEN, HOLD_EXPIRED, ...). */
  failureReason: string | null;
  paymentStatus: PaymentStatus | null;
  refundedTotal: number;
  decidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Grows with every change of the order (1 when queued): of two views of one order, the higher is newer. */
  version: number;
  /** The X-Request-Id of the request that submitted it: the logs of every process that handles the order carry it. */
  requestId: string | null;
};

/** An order the intake makes durable as `queued`. */
export type NewOrder = {
  id: string;
  showingId: number;
  /** Empty for a "best N" order. */
  seatIds: number[];
  best: BestRequest | null;
  customerEmail: string;
  customerName: string | null;
  currency: string;
  idempotencyKey: string;
  requestHash: string;
  paymentToken: string | null;
  /** The X-Request-Id of the submit (none for orders written outside the intake). */
  requestId?: string | null;
  /** A keyed digest of the client address it came from (none for orders written outside the intake). */
  clientKey?: string | null;
  createdAt: Date;
};

/** A seat of a hall as an order shows it. */
export type SeatInfo = { id: number; hallId: number; category: string; row: string; number: number };

/** What a submit checks of its showing. */
export type SaleShowing = {
  id: number;
  hallId: number;
  startsAt: Date;
  cancelledAt: Date | null;
  prices: Record<string, number>;
  currency: string;
};

/** A queued order with what allocation needs of its showing, read in the same locked statement. */
export type QueuedOrder = {
  id: string;
  seq: number;
  showingId: number;
  seatIds: number[];
  best: BestRequest | null;
  currency: string;
  createdAt: Date;
  hallId: number;
  /** The hall's seating settings: whether explicit orders that strand a seat are refused, how seats are scored. */
  seating: SeatingRules;
  startsAt: Date;
  showingCancelledAt: Date | null;
  prices: Record<string, number>;
  /** The buyer gave a card token: the charge starts as soon as the seats are held. */
  paysByCard: boolean;
  /** The X-Request-Id of its submit, for the decision's log line. */
  requestId: string | null;
  /** The customer's email, lower-cased: whose held seats the cap counts. */
  customer: string;
  /** Seats the customer holds unpaid in this showing already, in orders decided before this batch. */
  heldByCustomer: number;
  /** The digest of the client address it came from, if known: whose held seats the address cap counts. */
  client: string | null;
  /** Seats orders from that address hold unpaid in this showing already, decided before this batch. */
  heldByClient: number;
  /** The requested seats that exist, with whether an active ticket holds each one right now, or a block. */
  seats: (SeatInfo & { taken: boolean; blocked: boolean })[];
};

/** What the allocation decided for one queued order. */
export type Decision = {
  id: string;
  status: DecidedStatus;
  total: number | null;
  holdExpiresAt: Date | null;
  rejectedSeatIds: number[] | null;
  failureReason: string | null;
  paymentStatus: PaymentStatus | null;
  /** The seats chosen for a "best N" order that got them. */
  chosen: SeatInfo[] | null;
};

/** What a batch's commit returns per decided order: its stored times and the ids of its new tickets by seat. */
export type StoredDecision = { decidedAt: Date; updatedAt: Date; version: number; ticketIds: Record<string, number> };

/** A requested seat; the ticket exists once the order was decided in its favour. */
export type OrderSeat = {
  seatId: number;
  row: string;
  number: number;
  price: number | null;
  ticketId: number | null;
  ticketStatus: TicketStatus | null;
};

/** The order as buyers see it: GET /orders/:id, the waiting POST, and every pushed update. */
export type OrderView = {
  id: string;
  status: OrderStatus;
  showingId: number;
  seats: OrderSeat[];
  /** A "best N" order: what it asked for (its seats appear once chosen). */
  best: BestRequest | null;
  total: number | null;
  currency: string;
  holdExpiresAt: string | null;
  rejectedSeatIds: number[];
  reason: string | null;
  paymentStatus: PaymentStatus | null;
  refundedTotal: number;
  createdAt: string;
  decidedAt: string | null;
  updatedAt: string;
  /** Grows with every change of the order: of two views of one order, the higher version is the newer. */
  version: number;
};
