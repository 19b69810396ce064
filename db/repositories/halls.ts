import type { LayoutRow, SeatCategory, StoredRow, StoredSeat } from '../../domain/model/layout.js';
import type { SeatingRules } from '../../domain/model/seating.js';
import type { Db } from '../connection.js';
import { insertInChunks } from '../chunks.js';
import { crudRepository } from '../crud.js';

export type HallRow = {
  id: number;
  cinemaId: number;
  name: string;
  seatCount: number;
  seating: SeatingRules;
  createdAt: Date;
  updatedAt: Date;
};
export type HallWrite = { cinemaId: number; name: string; seatCount: number; seating?: SeatingRules };

const basics = crudRepository<HallRow, HallWrite, { cinemaId: number; operatorId: number }>({
  table: 'halls',
  columns: [
    'id',
    'cinema_id as cinemaId',
    'name',
    'seat_count as seatCount',
    'seating',
    'created_at as createdAt',
    'updated_at as updatedAt',
  ],
  writable: { cinemaId: 'cinema_id', name: 'name', seatCount: 'seat_count', seating: 'seating' },
  filters: {
    cinemaId: 'cinema_id',
    operatorId: (query, operatorId) =>
      query.whereIn('cinema_id', (cinemas) => cinemas.from('cinemas').select('id').where('operator_id', operatorId)),
  },
});

export const hallsRepository = {
  ...basics,

  /** Replaces the hall's rows and seats; call inside the transaction that created or locked the hall. */
  replaceLayout: async (trx: Db, hallId: number, rows: LayoutRow[]): Promise<void> => {
    await trx('hall_rows').where({ hall_id: hallId }).delete();
    const storedRows: { id: number; label: string }[] = await trx('hall_rows')
      .insert(rows.map((row) => ({ hall_id: hallId, label: row.label, y: row.y })))
      .returning(['id', 'label']);
    const rowIdByLabel = new Map(storedRows.map((row) => [row.label, row.id]));
    const seats = rows.flatMap((row) =>
      row.seats.map((seat) => ({ hall_id: hallId, row_id: rowIdByLabel.get(row.label), ...seat })),
    );
    await insertInChunks(trx, 'seats', seats);
  },

  layout: async (db: Db, hallId: number): Promise<StoredRow[]> => {
    const seats: (StoredSeat & { rowId: number; label: string; y: number })[] = await db('seats')
      .join('hall_rows', 'hall_rows.id', 'seats.row_id')
      .where('seats.hall_id', hallId)
      .select(
        'hall_rows.id as rowId',
        'hall_rows.label',
        'hall_rows.y',
        'seats.id',
        'seats.number',
        'seats.x',
        'seats.width',
        'seats.category',
      )
      .orderBy([{ column: 'hall_rows.y' }, { column: 'seats.x' }]);
    const rows = new Map<number, StoredRow>();
    for (const { rowId, label, y, ...seat } of seats) {
      const row = rows.get(rowId) ?? { id: rowId, label, y, seats: [] };
      row.seats.push(seat);
      rows.set(rowId, row);
    }
    return [...rows.values()];
  },

  /** Seat categories present in a hall: every one of them needs a price in each showing. */
  categories: async (db: Db, hallId: number): Promise<SeatCategory[]> =>
    (await db('seats').where({ hall_id: hallId }).distinct('category').orderBy('category')).map((row) => row.category),

  lockForUpdate: (trx: Db, hallId: number): Promise<Pick<HallRow, 'id' | 'seating'> | undefined> =>
    trx('halls').where({ id: hallId }).forUpdate().first('id', 'seating'),

  hasShowings: async (db: Db, hallId: number): Promise<boolean> =>
    Boolean(await db('showings').where({ hall_id: hallId }).first('id')),
};
