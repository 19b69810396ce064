import type { Knex } from 'knex';

/**
 * A per-showing version of its seat map. Every transaction that changes which seats are taken bumps
 * it once, holding the showing's row lock until commit, so versions follow commit order: a live seat
 * map applies deltas in version order and can tell a gap from a version it skipped.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE showings ADD COLUMN seat_version bigint NOT NULL DEFAULT 0');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE showings DROP COLUMN seat_version');
}
