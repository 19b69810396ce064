import type { Knex } from 'knex';
import { INITIAL_ORDER_STATUS, isOrderTransition, type OrderStatus } from '../domain/model/order-states.js';
import { INITIAL_TICKET_STATUSES, isTicketTransition, type TicketStatus } from '../domain/model/tickets.js';

/**
 * Every status an order or a ticket is written with, recorded by PostgreSQL itself during the test
 * run: a trigger (in the test database only) logs each INSERT and each change of `status`, whoever
 * wrote it (a repository, a CTE, a test playing a writer that bypasses the queue).
 */
export async function recordStatusChanges(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE test_status_changes (
      entity text NOT NULL, id text NOT NULL, from_status text, to_status text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE FUNCTION test_record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_status_changes (entity, id, from_status, to_status)
      VALUES (TG_TABLE_NAME, NEW.id::text, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status);
      RETURN NULL;
    END $$;
    CREATE TRIGGER orders_status_written AFTER INSERT OR UPDATE OF status ON orders
      FOR EACH ROW EXECUTE FUNCTION test_record_status_change();
    CREATE TRIGGER tickets_status_written AFTER INSERT OR UPDATE OF status ON tickets
      FOR EACH ROW EXECUTE FUNCTION test_record_status_change();
  `);
}

export type StatusChange = { entity: 'orders' | 'tickets'; id: string; from: string | null; to: string };

/** What was recorded (optionally since a moment), in the order it happened. */
export async function statusChanges(db: Knex, since?: Date): Promise<StatusChange[]> {
  const query = db('test_status_changes')
    .select('entity', 'id', 'from_status as from', 'to_status as to')
    .orderBy('at');
  if (since) query.where('at', '>=', since);
  return query;
}

/**
 * Whether a recorded write follows the state machines: a new row starts in an initial status, and
 * a write of the status takes an edge (writing the status a row has already is not one: the trigger
 * fires whenever an UPDATE names the column, so a redundant write is caught too).
 */
export function isAllowed({ entity, from, to }: StatusChange): boolean {
  if (entity === 'orders') {
    if (from === null) return to === INITIAL_ORDER_STATUS;
    return isOrderTransition(from as OrderStatus, to as OrderStatus);
  }
  if (from === null) return (INITIAL_TICKET_STATUSES as readonly string[]).includes(to);
  return isTicketTransition(from as TicketStatus, to as TicketStatus);
}

/** The database's own clock: what the recorded changes are stamped with. */
export async function databaseNow(db: Knex): Promise<Date> {
  const { rows } = await db.raw('SELECT clock_timestamp() AS now');
  return rows[0].now;
}

/** Fails with every recorded write that is not an edge of its state machine. */
export async function expectOnlyTransitions(db: Knex, since?: Date): Promise<void> {
  const strays = (await statusChanges(db, since)).filter((change) => !isAllowed(change));
  if (strays.length > 0) {
    const lines = strays
      .slice(0, 20)
      .map(({ entity, id, from, to }) => `  ${entity} ${id}: ${from ?? '(new)'} -> ${to}`);
    throw new Error(`${strays.length} status writes are not edges of the state machines:\n${lines.join('\n')}`);
  }
}

/** Fails with showings whose kept count of taken seats differs from a recount of active tickets and blocks, and with blocked seats that have a ticket. */
export async function expectTakenSeatsRecounted(db: Knex): Promise<void> {
  const { rows } = await db.raw(
    `SELECT s.id, s.taken_seats AS kept, t.active, b.blocked
     FROM showings s
     CROSS JOIN LATERAL (SELECT count(*)::int AS active FROM tickets WHERE showing_id = s.id AND status IN ('held', 'sold')) t
     CROSS JOIN LATERAL (SELECT count(*)::int AS blocked FROM seat_blocks WHERE showing_id = s.id) b
     WHERE s.taken_seats <> t.active + b.blocked`,
  );
  if (rows.length > 0) throw new Error(`taken_seats differs from a recount: ${JSON.stringify(rows.slice(0, 10))}`);
  const { rows: blockedAndTaken } = await db.raw(
    `SELECT b.showing_id, b.seat_id FROM seat_blocks b
     JOIN tickets t ON t.showing_id = b.showing_id AND t.seat_id = b.seat_id AND t.status IN ('held', 'sold')`,
  );
  if (blockedAndTaken.length > 0) throw new Error(`blocked seats with tickets: ${JSON.stringify(blockedAndTaken)}`);
}
