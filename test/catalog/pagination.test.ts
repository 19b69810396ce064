import { expect } from 'chai';
import { makeCinema, makeFilm, makeHall, makeShowing } from '../factories.js';
import { api, testSystem } from '../system.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

type Page<T> = { data: T[]; nextCursor: string | null };

/** Follows nextCursor from the first page to the last, keeping every page. */
async function walk<T>(path: string, limit: number): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let cursor: string | null = null;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const query: string = `${separator}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const response = await api<Page<T>>('GET', path + query, { token: null });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    pages.push(response.body);
    cursor = response.body.nextCursor;
    expect(pages.length, 'too many pages').to.be.below(500);
  } while (cursor !== null);
  return pages;
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('pagination', () => {
  before(async () => {
    // Enough cities that the default page of 50 cannot hold them all.
    const { deps } = await testSystem();
    const stamp = Date.now().toString(36);
    await deps.db('cities').insert(Array.from({ length: 60 }, (_, index) => ({ name: `Paged ${stamp} ${index}` })));
  });

  describe('page size', () => {
    it('when no limit is given, should answer 50 items and a cursor', async () => {
      const response = await api<Page<{ id: number }>>('GET', '/api/v1/cities', { token: null });
      expect(response.status).to.equal(200);
      expect(response.body.data).to.have.length(50);
      expect(response.body.nextCursor).to.be.a('string');
    });

    it('when the limit is 200, should accept it and answer at most 200 items', async () => {
      const { deps } = await testSystem();
      const n = (await deps.db('cities').count({ n: '*' }))[0]!.n;
      const response = await api<Page<{ id: number }>>('GET', '/api/v1/cities?limit=200', { token: null });
      expect(response.status).to.equal(200);
      expect(response.body.data).to.have.length(Math.min(200, Number(n)));
    });

    for (const limit of ['201', '0', '-1', '2.5', 'ten']) {
      it(`when the limit is ${limit}, should refuse with 400 VALIDATION_FAILED naming limit`, async () => {
        const response = await api('GET', `/api/v1/cities?limit=${limit}`, { token: null });
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
        expect(response.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['limit']);
      });
    }
  });

  describe('walking the pages', () => {
    it('when all cities are walked page by page, should see each city once, in id order, and end with a null cursor', async () => {
      const { deps } = await testSystem();
      const expected: number[] = await deps.db('cities').orderBy('id').pluck('id');
      const pages = await walk<{ id: number }>('/api/v1/cities', 7);
      const seen = pages.flatMap((page) => page.data.map((city) => city.id));
      expect(seen).to.deep.equal(expected);
      expect(pages.at(-1)!.nextCursor).to.equal(null);
      expect(pages.slice(0, -1).every((page) => page.data.length === 7)).to.equal(true);
    });

    it('when the same page is asked for twice, should answer it the same', async () => {
      const first = await walk<{ id: number }>('/api/v1/cities', 11);
      const second = await walk<{ id: number }>('/api/v1/cities', 11);
      expect(second).to.deep.equal(first);
    });

    describe('showings', () => {
      let cinemaId: number;
      let expected: number[];

      before(async () => {
        // Three halls showing at the same three times: equal starts are ordered by id.
        cinemaId = (await makeCinema()).id;
        const filmId = (await makeFilm({ durationMinutes: 60 })).id;
        const base = Math.ceil((Date.now() + 40 * DAY) / MINUTE) * MINUTE;
        const halls = [];
        for (let index = 0; index < 3; index += 1) halls.push((await makeHall({ cinemaId })).id);
        const created: { id: number; startsAt: string }[] = [];
        // Created latest first, so that id order and time order disagree.
        for (const hours of [6, 3, 0]) {
          for (const hallId of halls) {
            created.push(
              await makeShowing({ hallId, filmId, startsAt: new Date(base + hours * 60 * MINUTE).toISOString() }),
            );
          }
        }
        expected = created
          .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt) || a.id - b.id)
          .map((showing) => showing.id);
      });

      for (const limit of [1, 2, 4, 9, 10]) {
        // 9 at a time is the exact-multiple case: one full page and no empty page after it.
        it(`when the showings of a cinema are walked ${limit} at a time, should see each once, sorted by startsAt then id`, async () => {
          const pages = await walk<{ id: number }>(`/api/v1/showings?cinemaId=${cinemaId}`, limit);
          expect(pages.flatMap((page) => page.data.map((showing) => showing.id))).to.deep.equal(expected);
          expect(pages).to.have.length(Math.max(1, Math.ceil(9 / limit)));
        });
      }

      it('when the showings of a cinema are walked under its relation route, should give the same order', async () => {
        const pages = await walk<{ id: number }>(`/api/v1/cinemas/${cinemaId}/showings`, 4);
        expect(pages.flatMap((page) => page.data.map((showing) => showing.id))).to.deep.equal(expected);
      });
    });
  });

  describe('cursors', () => {
    const garbage = [
      'garbage',
      'AAAA',
      '%%%',
      cursorOf({ id: 1 }),
      cursorOf([1]),
      cursorOf([1, 1.5]),
      cursorOf(null),
      cursorOf([true, 1]),
    ];
    for (const cursor of garbage) {
      it(`when the cursor is ${JSON.stringify(cursor)}, should refuse with 400 INVALID_CURSOR`, async () => {
        const response = await api('GET', `/api/v1/cities?cursor=${encodeURIComponent(cursor)}`, { token: null });
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal('INVALID_CURSOR');
      });
    }

    it('when a well-formed cursor holds a text key for a list sorted by id, should refuse with 400 INVALID_CURSOR', async () => {
      const response = await api('GET', `/api/v1/cities?cursor=${cursorOf(['not a number', 3])}`, { token: null });
      expect(response.status, JSON.stringify(response.body)).to.equal(400);
      expect(response.body.error.code).to.equal('INVALID_CURSOR');
    });

    for (const key of ['not a date', 12, '2027-02-30T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '2027-01-01']) {
      it(`when a showings cursor holds ${JSON.stringify(key)} for its time, should refuse with 400 INVALID_CURSOR`, async () => {
        const response = await api('GET', `/api/v1/showings?cursor=${cursorOf([key, 3])}`, { token: null });
        expect(response.status, JSON.stringify(response.body)).to.equal(400);
        expect(response.body.error.code).to.equal('INVALID_CURSOR');
      });
    }

    it('when a cursor is longer than 200 characters, should refuse with 400 VALIDATION_FAILED', async () => {
      const response = await api('GET', `/api/v1/cities?cursor=${'A'.repeat(201)}`, { token: null });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    });

    it('when a cursor from a later page is reused, should answer the page after it', async () => {
      const first = (await api<Page<{ id: number }>>('GET', '/api/v1/cities?limit=3', { token: null })).body;
      const second = (
        await api<Page<{ id: number }>>('GET', `/api/v1/cities?limit=3&cursor=${first.nextCursor}`, { token: null })
      ).body;
      expect(second.data[0]!.id).to.be.above(first.data[2]!.id);
      const again = (
        await api<Page<{ id: number }>>('GET', `/api/v1/cities?limit=3&cursor=${first.nextCursor}`, { token: null })
      ).body;
      expect(again).to.deep.equal(second);
    });
  });
});
