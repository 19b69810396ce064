import { expect } from 'chai';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing } from '../factories.js';
import { api } from '../system.js';
import { block } from './support.js';
import { gridLayout } from './support.js';

const DAY = 86_400_000;

type SearchBody = {
  count: number;
  showings: {
    showingId: number;
    cinemaName: string;
    startsAt: string;
    rule: string;
    row: string;
    seats: { id: number }[];
  }[];
  error?: { code: string };
};

const search = (query: string) => api<SearchBody>('GET', `/api/v1/search/seats?${query}`, { token: null });

describe('seating: group search across showings', () => {
  it('when a film plays in several halls of a city, should list the showings that day with N seats together, by start time, each with its seats', async () => {
    const city = await makeCity();
    const film = await makeFilm();
    const otherFilm = await makeFilm();
    // Noon UTC three days ahead is 15:00 that day in Moscow, the cinemas' zone.
    const day = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY + 12 * 3_600_000);
    const date = day.toISOString().slice(0, 10);
    const at = (hours: number) => new Date(day.getTime() + hours * 3_600_000).toISOString();
    const cinema = await makeCinema({ cityId: city.id });
    const [big, small, other] = await Promise.all([
      makeHall({ cinemaId: cinema.id, layout: gridLayout(6, 10) }),
      makeHall({ cinemaId: cinema.id, layout: gridLayout(2, 3, { aisleAfter: 2 }) }),
      makeHall({ cinemaId: (await makeCinema({ cityId: city.id })).id, layout: gridLayout(4, 8) }),
    ]);
    const late = await makeShowing({ hallId: big.id, filmId: film.id, startsAt: at(4) });
    const early = await makeShowing({ hallId: other.id, filmId: film.id, startsAt: at(0) });
    const tooSmall = await makeShowing({ hallId: small.id, filmId: film.id, startsAt: at(1) });
    const blockedOut = await makeShowing({ hallId: big.id, filmId: film.id, startsAt: at(-2) });
    await makeShowing({ hallId: other.id, filmId: otherFilm.id, startsAt: at(5) });
    const allSeats = big.layout.rows.flatMap((row) => row.seats.map((seat) => seat.id));
    expect((await block(blockedOut.id, allSeats.slice(0, 59))).status).to.equal(201);

    const response = await search(`filmId=${film.id}&cityId=${city.id}&date=${date}&count=3`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body.showings.map((showing) => showing.showingId)).to.deep.equal([early.id, late.id]);
    for (const showing of response.body.showings) {
      expect(showing.seats).to.have.length(3);
      expect(showing.rule).to.equal('together-no-orphan');
    }
    expect(response.body.showings.map((showing) => showing.showingId)).to.not.include(tooSmall.id);
  });

  it('when the city does not exist, should answer 404 CITY_NOT_FOUND; when the query is incomplete, 400', async () => {
    const film = await makeFilm();
    const missing = await search(`filmId=${film.id}&cityId=999999999&date=2030-01-01&count=2`);
    expect([missing.status, missing.body.error?.code]).to.deep.equal([404, 'CITY_NOT_FOUND']);
    const incomplete = await search(`filmId=${film.id}&date=2030-01-01&count=2`);
    expect([incomplete.status, incomplete.body.error?.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
  });
});
