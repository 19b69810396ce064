import { expect } from 'chai';
import { connectDatabase, dropDatabase, ensureDatabase, type Db } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrate.js';
import { statisticsRepository } from '../../db/repositories/statistics.js';
import { MIGRATIONS } from '../../host/roles.js';
import { testSystem } from '../system.js';

/** Migrations up to (and without) the one named: the schema a database had before it. */
const migrationsBefore = (name: string) =>
  Object.fromEntries(Object.entries(MIGRATIONS).filter(([migration]) => migration < name));

/** A paid order of two seats, one of them then cancelled and refunded, written as the schema before statistics allowed. */
async function salesOfBefore(db: Db) {
  const [city] = await db('cities').insert({ name: 'Recount city' }).returning('id');
  const [cinema] = await db('cinemas')
    .insert({
      city_id: city.id,
      name: 'Recount cinema',
      timezone: 'Europe/Moscow',
      currency: 'RUB',
      default_prices: '{}',
    })
    .returning('id');
  const [hall] = await db('halls').insert({ cinema_id: cinema.id, name: 'Hall', seat_count: 2 }).returning('id');
  const [row] = await db('hall_rows').insert({ hall_id: hall.id, label: 'A', y: 0 }).returning('id');
  const seats = await db('seats')
    .insert(
      [1, 2].map((number) => ({ hall_id: hall.id, row_id: row.id, number, x: number, width: 1, category: 'standard' })),
    )
    .returning('id');
  const [film] = await db('films').insert({ title: 'Recount film', duration_minutes: 90 }).returning('id');
  const startsAt = new Date(Date.now() + 86_400_000);
  const [showing] = await db('showings')
    .insert({
      hall_id: hall.id,
      film_id: film.id,
      starts_at: startsAt,
      ends_at: new Date(startsAt.getTime() + 90 * 60_000),
      blocked_until: new Date(startsAt.getTime() + 105 * 60_000),
      prices: JSON.stringify({ standard: 500 }),
      currency: 'RUB',
    })
    .returning('id');
  const [order] = await db('orders')
    .insert({
      showing_id: showing.id,
      status: 'queued',
      seat_ids: seats.map((seat) => seat.id),
      customer_email: 'old@example.com',
      currency: 'RUB',
    })
    .returning('id');
  await db('orders')
    .where({ id: order.id })
    .update({ status: 'confirmed', total: 1_000, decided_at: db.fn.now(), refunded_total: 500 });
  await db('tickets').insert([
    { order_id: order.id, showing_id: showing.id, hall_id: hall.id, seat_id: seats[0]!.id, price: 500, status: 'sold' },
    {
      order_id: order.id,
      showing_id: showing.id,
      hall_id: hall.id,
      seat_id: seats[1]!.id,
      price: 500,
      status: 'cancelled',
      cancelled_at: db.fn.now(),
    },
  ]);
  await db('payments').insert([
    {
      order_id: order.id,
      kind: 'charge',
      idempotency_key: 'old-charge',
      amount: 1_000,
      currency: 'RUB',
      status: 'succeeded',
    },
    {
      order_id: order.id,
      kind: 'refund',
      idempotency_key: 'old-refund',
      amount: 500,
      currency: 'RUB',
      status: 'succeeded',
    },
  ]);
  return showing.id as number;
}

describe('statistics: kept equal to a recount whatever happens to the tables', () => {
  let db: Db;
  let databaseUrl: string;

  before(async () => {
    const { config } = await testSystem();
    const url = new URL(config.DATABASE_URL);
    url.pathname = `${url.pathname}_recount`;
    databaseUrl = url.toString();
    await ensureDatabase(databaseUrl);
    db = connectDatabase(databaseUrl, 2);
  });

  after(async () => {
    await db.destroy();
    await dropDatabase(databaseUrl);
  });

  it('when a database with sales is migrated to statistics, should count them; when one table is emptied, should count again', async () => {
    await migrateToLatest(db, migrationsBefore('011'));
    const showingId = await salesOfBefore(db);
    const version = (await db('orders').first('version')).version;
    await migrateToLatest(db, MIGRATIONS);

    expect(await statisticsRepository.mismatches(db)).to.deep.equal([]);
    const figures = await statisticsRepository.showing(db, showingId);
    expect(figures).to.include({ ticketsSold: 1, orders: 1, refunds: 1, refundedAmount: 500 });
    // The backfill is no change of the orders themselves.
    expect((await db('orders').first('version')).version).to.equal(version);

    await db.raw('TRUNCATE payments');
    expect(await statisticsRepository.mismatches(db)).to.deep.equal([]);
    expect(await statisticsRepository.showing(db, showingId)).to.include({ ticketsSold: 1, refunds: 0 });
    await db.raw('TRUNCATE tickets');
    expect(await statisticsRepository.mismatches(db)).to.deep.equal([]);
    expect(await statisticsRepository.showing(db, showingId)).to.include({ ticketsSold: 0, orders: 1 });
  });
});
