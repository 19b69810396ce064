import { expect } from 'chai';
import type { Db } from '../../db/connection.js';
import { readVersionsRepository } from '../../db/repositories/read-versions.js';
import { seatMapRepository } from '../../db/repositories/seat-map.js';
import type { SaleEvent, SaleEvents } from '../ports.js';
import type { VersionProbe } from '../catalog/read-versions.js';
import { DEFAULT_SEATING_RULES } from '../model/seating.js';
import { createSeatMaps } from './seat-map-reads.js';

/**
 * One showing of 100 seats in a database played in memory, with a probe that can answer from a
 * moment already past (a statement whose snapshot was taken before later commits).
 */
function playedShowing() {
  const database = { seatVersion: 0, catalog: 1, price: 10, taken: new Set<number>(), loads: 0 };
  const originals = { ...seatMapRepository, catalog: readVersionsRepository.catalog };
  Object.assign(seatMapRepository, {
    showings: async () => [
      {
        id: 1,
        hallId: 1,
        prices: { standard: database.price },
        currency: 'EUR',
        seatVersion: database.seatVersion,
        seating: DEFAULT_SEATING_RULES,
      },
    ],
    seatStates: async () =>
      (database.loads += 1) &&
      Array.from({ length: 100 }, (_, index) => ({
        showingId: 1,
        id: index + 1,
        rowId: 1 + Math.floor(index / 10),
        row: String.fromCharCode(65 + Math.floor(index / 10)),
        y: Math.floor(index / 10),
        number: (index % 10) + 1,
        x: index % 10,
        width: 1,
        category: 'standard',
        status: database.taken.has(index + 1) ? 'held' : null,
        blocked: false,
      })),
  });
  readVersionsRepository.catalog = async () => database.catalog;
  let hear: (event: SaleEvent) => void = () => {};
  const events = {
    listen: async (listener: (event: SaleEvent) => void) => void (hear = listener),
  } as unknown as SaleEvents;
  let probedAt: { seatVersion: number; catalog: number } | undefined;
  const versions = {
    of: async () => {
      const moment = probedAt ?? database;
      probedAt = undefined;
      return { catalog: moment.catalog, showings: new Map([[1, { seatVersion: moment.seatVersion, taken: 0 }]]) };
    },
  } as unknown as VersionProbe;
  const db = { transaction: (work: (trx: unknown) => unknown) => work({}) } as unknown as Db;
  return {
    database,
    maps: createSeatMaps(db, versions, events),
    /** Commits a sale of this seat and publishes its delta (or not yet: a publication on its way). */
    sell(seatId: number, { published = true } = {}) {
      database.seatVersion += 1;
      database.taken.add(seatId);
      if (!published) return;
      hear({
        orders: [],
        seats: [{ showingId: 1, version: database.seatVersion, seats: [{ id: seatId, status: 'held' }] }],
      });
    },
    /** The next probe answers as of now, whatever commits before it runs (later ones as of their time). */
    probeFromHere: () => (probedAt = { seatVersion: database.seatVersion, catalog: database.catalog }),
    restore: () => {
      Object.assign(seatMapRepository, { showings: originals.showings, seatStates: originals.seatStates });
      readVersionsRepository.catalog = originals.catalog;
    },
  };
}

describe('seat maps: what the intake hint brings forward', () => {
  it('when the hint brought a map past a price change the read has not probed yet, should answer a state that existed, never new seats with old prices', async () => {
    const showing = playedShowing();
    try {
      await showing.maps.read(1);
      showing.probeFromHere(); // a read whose probe saw the map before the price change
      showing.database.price = 20;
      showing.database.catalog = 2;
      for (let seatId = 1; seatId <= 40; seatId += 1) showing.sell(seatId);
      expect(showing.maps.heldTaken(1, [40]), 'the hint knows the sales').to.deep.equal([40]);

      const read = await showing.maps.read(1);
      const seats = read.value.rows.flatMap((row) => row.seats);
      const taken = seats.filter((seat) => seat.status !== 'free').length;
      const prices = new Set(seats.map((seat) => seat.price));
      const existed =
        (read.value.version === 0 && taken === 0 && prices.has(10)) ||
        (read.value.version === 40 && taken === 40 && prices.has(20));
      const served = JSON.stringify({ version: read.value.version, taken, prices: [...prices] });
      expect(existed, `a state the database held, not ${served}`).to.equal(true);
      expect(prices.size).to.equal(1);

      const now = await showing.maps.read(1);
      expect([now.value.version, now.value.rows[0]!.seats[0]!.price, now.value.freeSeats]).to.deep.equal([40, 20, 60]);
    } finally {
      showing.restore();
    }
  });

  it('when another read stores a later map while a read waits for deltas, should go on from that map without reading the database again', async () => {
    const showing = playedShowing();
    try {
      await showing.maps.read(1);
      showing.sell(1, { published: false });
      showing.probeFromHere();
      const waiting = showing.maps.read(1); // probes version 1, whose delta has not come
      showing.database.price = 20;
      showing.database.catalog = 2;
      const other = await showing.maps.read(1); // a new catalog: read from the database
      const answer = await waiting;
      expect([other.value.version, answer.value.version]).to.deep.equal([1, 1]);
      expect(answer.value.rows[0]!.seats[0]!.status).to.equal('held');
      expect(showing.database.loads, 'the first read and the other one, not the waiting one').to.equal(2);
    } finally {
      showing.restore();
    }
  });
});
