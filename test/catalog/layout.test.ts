import { expect } from 'chai';
import { makeCinema, makeHall } from '../factories.js';
import { api, testSystem } from '../system.js';
import { databaseRefusal } from '../assertions.js';

type Problem = { path: unknown; message: string };

describe('hall layouts', () => {
  let cinemaId: number;
  let unique = 0;

  before(async () => {
    cinemaId = (await makeCinema()).id;
  });

  const postHall = (layout: unknown) =>
    api('POST', '/api/v1/halls', { body: { cinemaId, name: `Layout hall ${(unique += 1)}`, layout } });

  async function refusedLayout(layout: unknown): Promise<Problem[]> {
    const response = await postHall(layout);
    expect(response.status, JSON.stringify(response.body)).to.equal(400);
    expect(response.body.error.code).to.equal('INVALID_LAYOUT');
    return response.body.error.details;
  }

  async function hallCount() {
    const { deps } = await testSystem();
    const [row] = await deps.db('halls').where({ cinema_id: cinemaId }).count({ n: '*' });
    return Number(row!.n);
  }

  describe('refused layouts', () => {
    it('when two rows have the same label, should refuse with INVALID_LAYOUT naming the second row label', async () => {
      const halls = await hallCount();
      const details = await refusedLayout({
        rows: [
          { label: 'A', seats: [{ number: 1 }] },
          { label: 'B', seats: [{ number: 1 }] },
          { label: 'A', seats: [{ number: 1 }] },
        ],
      });
      expect(details).to.have.length(1);
      expect(details[0]!.path).to.deep.equal('layout.rows.2.label');
      expect(details[0]!.message).to.include('"A"');
      expect(await hallCount()).to.equal(halls);
    });

    it('when a row repeats a seat number, should refuse naming that seat number', async () => {
      const details = await refusedLayout({
        rows: [{ label: 'A', seats: [{ number: 1 }, { number: 2 }, { number: 1 }] }],
      });
      expect(details).to.deep.equal([
        { in: 'body', path: 'layout.rows.0.seats.2.number', message: 'seat number 1 repeats in row "A"' },
      ]);
    });

    it('when the same seat number is used in two rows, should accept it', async () => {
      const response = await postHall({
        rows: [
          { label: 'A', seats: [{ number: 1 }] },
          { label: 'B', seats: [{ number: 1 }] },
        ],
      });
      expect(response.status).to.equal(201);
    });

    it('when an explicit x puts a seat on top of another, should refuse naming the row and both seats', async () => {
      const details = await refusedLayout({
        rows: [
          { label: 'A', seats: [{ number: 1 }] },
          { label: 'B', seats: [{ number: 1 }, { number: 2 }, { number: 3, x: 1 }] },
        ],
      });
      expect(details).to.have.length(1);
      expect(details[0]!.path).to.deep.equal('layout.rows.1.seats');
      expect(details[0]!.message).to.match(/seats (2 and 3|3 and 2) of row "B" overlap at x=1/);
    });

    it('when a double seat reaches into the next seat, should refuse it', async () => {
      const details = await refusedLayout({
        rows: [
          {
            label: 'A',
            seats: [
              { number: 1, category: 'double', x: 0 },
              { number: 2, x: 1 },
            ],
          },
        ],
      });
      expect(details).to.deep.equal([
        { in: 'body', path: 'layout.rows.0.seats', message: 'seats 1 and 2 of row "A" overlap at x=1' },
      ]);
    });

    it('when a seat is placed inside a double seat further right, should refuse it', async () => {
      const details = await refusedLayout({
        rows: [
          {
            label: 'A',
            seats: [
              { number: 1, x: 5 },
              { number: 2, category: 'double', x: 4 },
            ],
          },
        ],
      });
      expect(details.map((d) => d.path)).to.deep.equal(['layout.rows.0.seats']);
    });

    it('when two rows are at the same y, should refuse naming the y of the second', async () => {
      const details = await refusedLayout({
        rows: [
          { label: 'A', y: 3, seats: [{ number: 1 }] },
          { label: 'B', y: 3, seats: [{ number: 1 }] },
        ],
      });
      expect(details).to.deep.equal([
        { in: 'body', path: 'layout.rows.1.y', message: 'another row is already at y=3' },
      ]);
    });

    it('when an explicit y equals the default y of an earlier row, should refuse it', async () => {
      const details = await refusedLayout({
        rows: [
          { label: 'A', seats: [{ number: 1 }] }, // y defaults to its index, 0
          { label: 'B', y: 0, seats: [{ number: 1 }] },
        ],
      });
      expect(details.map((d) => d.path)).to.deep.equal(['layout.rows.1.y']);
    });

    it('when several things are wrong, should report every problem at once', async () => {
      const details = await refusedLayout({
        rows: [
          { label: 'A', seats: [{ number: 1 }, { number: 1 }] },
          { label: 'A', seats: [{ number: 1 }, { number: 2, x: 0 }] },
        ],
      });
      expect(details.map((d) => d.path)).to.deep.equal([
        'layout.rows.0.seats.1.number',
        'layout.rows.1.label',
        'layout.rows.1.seats',
      ]);
    });

    const invalidShapes: [string, unknown, string][] = [
      ['a row has no seats', { rows: [{ label: 'A', seats: [] }] }, 'layout.rows.0.seats'],
      ['there are no rows', { rows: [] }, 'layout.rows'],
      ['a seat number is 0', { rows: [{ label: 'A', seats: [{ number: 0 }] }] }, 'layout.rows.0.seats.0.number'],
      ['an x is negative', { rows: [{ label: 'A', seats: [{ number: 1, x: -1 }] }] }, 'layout.rows.0.seats.0.x'],
      [
        'a category is unknown',
        { rows: [{ label: 'A', seats: [{ number: 1, category: 'sofa' }] }] },
        'layout.rows.0.seats.0.category',
      ],
      ['a row label is blank', { rows: [{ label: '  ', seats: [{ number: 1 }] }] }, 'layout.rows.0.label'],
      [
        'a seat has an unknown field',
        { rows: [{ label: 'A', seats: [{ number: 1, width: 3 }] }] },
        'layout.rows.0.seats.0',
      ],
    ];
    for (const [what, layout, path] of invalidShapes) {
      it(`when ${what}, should refuse with 400 VALIDATION_FAILED naming ${path}`, async () => {
        const response = await postHall(layout);
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
        expect(response.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal([path]);
      });
    }

    it('when a hall has more than 2000 seats, should refuse with INVALID_LAYOUT', async () => {
      const rows = Array.from({ length: 5 }, (_, r) => ({
        label: `R${r}`,
        seats: Array.from({ length: 401 }, (_, s) => ({ number: s + 1 })),
      }));
      const details = await refusedLayout({ rows });
      expect(details).to.deep.equal([{ in: 'body', path: 'layout.rows', message: 'at most 2000 seats per hall' }]);
    });
  });

  describe('a valid layout', () => {
    type StoredRow = {
      id: number;
      label: string;
      y: number;
      seats: { id: number; number: number; x: number; width: number; category: string }[];
    };
    let hall: { id: number; seatCount: number; layout: { rows: StoredRow[] } };

    before(async () => {
      const response = await postHall({
        rows: [
          // Given out of order: the answer sorts rows by y and seats by x.
          {
            label: 'C',
            y: 7,
            seats: [
              { number: 1, category: 'double' },
              { number: 2, category: 'double' },
            ],
          },
          { label: 'A', y: 0, seats: [{ number: 1 }, { number: 2 }, { number: 3, x: 4 }, { number: 4 }] },
          {
            label: 'B',
            y: 2,
            seats: [
              { number: 2, x: 3 },
              { number: 1, x: 0, category: 'wheelchair' },
              { number: 3, category: 'vip' },
            ],
          },
        ],
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      hall = response.body;
    });

    it('when a valid layout with aisles is posted, should count its seats', () => {
      expect(hall.seatCount).to.equal(9);
    });

    it('when a valid layout is posted, should answer rows sorted by y with ids', () => {
      expect(hall.layout.rows.map((row) => [row.label, row.y])).to.deep.equal([
        ['A', 0],
        ['B', 2],
        ['C', 7],
      ]);
      for (const row of hall.layout.rows) expect(row.id).to.be.a('number');
    });

    it('when seats have no x, should place them right after the previous seat, keeping aisles given by an x', () => {
      const positions = hall.layout.rows.map((row) =>
        row.seats.map((seat) => [seat.number, seat.x, seat.width, seat.category]),
      );
      expect(positions).to.deep.equal([
        [
          [1, 0, 1, 'standard'],
          [2, 1, 1, 'standard'],
          [3, 4, 1, 'standard'],
          [4, 5, 1, 'standard'],
        ],
        [
          [1, 0, 1, 'wheelchair'],
          [3, 1, 1, 'vip'],
          [2, 3, 1, 'standard'],
        ],
        [
          [1, 0, 2, 'double'],
          [2, 2, 2, 'double'],
        ],
      ]);
    });

    it('when the hall is read back, should answer the same layout with distinct seat ids stored in the database', async () => {
      const read = await api('GET', `/api/v1/halls/${hall.id}`, { token: null });
      expect(read.status).to.equal(200);
      expect(read.body.layout).to.deep.equal(hall.layout);
      const ids = hall.layout.rows.flatMap((row) => row.seats.map((seat) => seat.id));
      expect(new Set(ids).size).to.equal(9);
      const { deps } = await testSystem();
      const stored = await deps.db('seats').where({ hall_id: hall.id }).orderBy('id').pluck('id');
      expect(stored).to.have.members(ids);
    });

    describe('database constraints on direct writes', () => {
      const rowOf = (label: string) => hall.layout.rows.find((row) => row.label === label)!;

      it('when a seat overlapping another is inserted directly, should be refused by seats_no_overlap', async () => {
        const { deps } = await testSystem();
        const error = await databaseRefusal(
          deps
            .db('seats')
            .insert({ hall_id: hall.id, row_id: rowOf('C').id, number: 9, x: 3, width: 1, category: 'standard' }),
        );
        expect(error.code).to.equal('23P01');
        expect(error.constraint).to.equal('seats_no_overlap');
      });

      it('when a seat in an aisle is inserted directly, should be accepted', async () => {
        const { deps } = await testSystem();
        const [row] = await deps
          .db('seats')
          .insert({ hall_id: hall.id, row_id: rowOf('A').id, number: 9, x: 2, width: 2, category: 'double' })
          .returning('id');
        expect(row.id).to.be.a('number');
        await deps.db('seats').where({ id: row.id }).delete();
      });

      it('when a seat number is repeated in a row directly, should be refused by seats_number_key', async () => {
        const { deps } = await testSystem();
        const error = await databaseRefusal(
          deps
            .db('seats')
            .insert({ hall_id: hall.id, row_id: rowOf('A').id, number: 1, x: 50, width: 1, category: 'standard' }),
        );
        expect(error.code).to.equal('23505');
        expect(error.constraint).to.equal('seats_number_key');
      });

      it('when a row label or y is repeated in a hall directly, should be refused by the unique constraints', async () => {
        const { deps } = await testSystem();
        const label = await databaseRefusal(deps.db('hall_rows').insert({ hall_id: hall.id, label: 'B', y: 99 }));
        expect([label.code, label.constraint]).to.deep.equal(['23505', 'hall_rows_label_key']);
        const y = await databaseRefusal(deps.db('hall_rows').insert({ hall_id: hall.id, label: 'Z', y: 2 }));
        expect([y.code, y.constraint]).to.deep.equal(['23505', 'hall_rows_y_key']);
      });

      it('when a seat of width 3 is inserted directly, should be refused by the width check', async () => {
        const { deps } = await testSystem();
        const error = await databaseRefusal(
          deps
            .db('seats')
            .insert({ hall_id: hall.id, row_id: rowOf('A').id, number: 20, x: 60, width: 3, category: 'standard' }),
        );
        expect(error.code).to.equal('23514');
      });
    });
  });

  it('when a layout is replaced by PATCH, should validate it the same way', async () => {
    const hall = await makeHall({ cinemaId });
    const response = await api('PATCH', `/api/v1/halls/${hall.id}`, {
      body: {
        layout: {
          rows: [
            {
              label: 'A',
              seats: [
                { number: 1, category: 'double' },
                { number: 2, x: 1 },
              ],
            },
          ],
        },
      },
    });
    expect(response.status).to.equal(400);
    expect(response.body.error.code).to.equal('INVALID_LAYOUT');
    const read = await api('GET', `/api/v1/halls/${hall.id}`, { token: null });
    expect(read.body.seatCount).to.equal(12);
    expect(read.body.layout).to.deep.equal(hall.layout);
  });
});
