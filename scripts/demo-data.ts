import type { Db } from '../db/connection.js';
import { bulkRepository } from '../db/repositories/bulk.js';
import { hallsRepository } from '../db/repositories/halls.js';
import { DEFAULT_PRICES } from '../domain/catalog/cinemas.js';
import { countSeats, normalizeLayout, type LayoutInput } from '../domain/layout.js';
import { addDays, localDate, zonedInstant } from '../domain/time.js';

export type DemoSize = {
  cities: number;
  cinemas: number;
  hallsPerCinema: number;
  films: number;
  days: number;
  /** Showings a hall runs per day at most (fewer when the films are long). */
  showingsPerHallPerDay: number;
  cleaningGapMinutes: number;
};

export const SMALL_DEMO: Omit<DemoSize, 'cleaningGapMinutes'> = {
  cities: 3,
  cinemas: 6,
  hallsPerCinema: 2,
  films: 8,
  days: 3,
  showingsPerHallPerDay: 4,
};

const CITIES: [string, string][] = [
  ['Moscow', 'Europe/Moscow'],
  ['Saint Petersburg', 'Europe/Moscow'],
  ['Novosibirsk', 'Asia/Novosibirsk'],
  ['Yekaterinburg', 'Asia/Yekaterinburg'],
  ['Kazan', 'Europe/Moscow'],
  ['Vladivostok', 'Asia/Vladivostok'],
  ['Kaliningrad', 'Europe/Kaliningrad'],
  ['Samara', 'Europe/Samara'],
  ['Omsk', 'Asia/Omsk'],
  ['Krasnoyarsk', 'Asia/Krasnoyarsk'],
  ['Irkutsk', 'Asia/Irkutsk'],
  ['Khabarovsk', 'Asia/Vladivostok'],
];
const CINEMA_NAMES = [
  'Octobre',
  'Aurora',
  'Luxor',
  'Cinema Park',
  'Karo',
  'Formula Kino',
  'Mori',
  'Pioneer',
  'Illusion',
  'Khudozhestvenny',
];
const FILM_WORDS = [
  'Silent',
  'Northern',
  'Last',
  'Iron',
  'Glass',
  'Winter',
  'Hidden',
  'Red',
  'Distant',
  'Golden',
  'Lost',
  'Midnight',
];
const FILM_NOUNS = [
  'Harbour',
  'Road',
  'Garden',
  'Signal',
  'River',
  'Empire',
  'Orbit',
  'Letter',
  'Station',
  'Forest',
  'Crown',
  'Tide',
];
const AGE_RATINGS = ['0+', '6+', '12+', '16+', '18+'];
const ROW_LABELS = 'ABCDEFGHJKLMNOPQRSTU';
const FIRST_SHOW_MINUTES = 10 * 60;
const LAST_START_MINUTES = 23 * 60 + 30;

/** Deterministic pseudo-random numbers, so the same flags give the same demo data. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, between: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

/**
 * A hall as cinemas build them: blocks of seats split by aisles, vip rows in the middle, wheelchair
 * places at the ends of the front row, love seats (double) in the back row. 100 to 400 seats.
 */
export function demoLayout(rows: number, seatsPerRow: number): LayoutInput {
  const aisleAfter = seatsPerRow >= 16 ? [4, seatsPerRow - 4] : [Math.floor(seatsPerRow / 2)];
  return {
    rows: Array.from({ length: rows }, (_, rowIndex) => {
      const isBack = rowIndex === rows - 1;
      const isVip = rowIndex >= Math.floor(rows / 2) - 1 && rowIndex <= Math.floor(rows / 2);
      const count = isBack ? Math.floor(seatsPerRow / 2) : seatsPerRow;
      let x = 0;
      return {
        label: ROW_LABELS[rowIndex]!,
        seats: Array.from({ length: count }, (_, seatIndex) => {
          const number = seatIndex + 1;
          if (!isBack && aisleAfter.includes(seatIndex)) x += 1;
          const category = isBack
            ? ('double' as const)
            : rowIndex === 0 && (seatIndex === 0 || seatIndex === count - 1)
              ? ('wheelchair' as const)
              : isVip
                ? ('vip' as const)
                : ('standard' as const);
          const seat = { number, x, category };
          x += category === 'double' ? 2 : 1;
          return seat;
        }),
      };
    }),
  };
}

function roundUpTo(minutes: number, step: number) {
  return Math.ceil(minutes / step) * step;
}

export async function seedDemoData(db: Db, size: DemoSize, progress: (line: string) => void = () => {}) {
  const rng = random(42);
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

  const cityNames = Array.from({ length: size.cities }, (_, index) => {
    const [name] = CITIES[index % CITIES.length]!;
    return index < CITIES.length ? name : `${name} ${Math.floor(index / CITIES.length) + 1}`;
  });
  const cities = await bulkRepository.insertCities(db, cityNames);
  progress(`cities    ${cities.length}/${size.cities} (${elapsed()})`);

  const cinemas = await bulkRepository.insertCinemas(
    db,
    Array.from({ length: size.cinemas }, (_, index) => {
      const cityIndex = index % cities.length;
      const surcharge = rng.between(0, 4) * 5_000;
      return {
        cityId: cities[cityIndex]!.id,
        name: `${CINEMA_NAMES[index % CINEMA_NAMES.length]} ${Math.floor(index / CINEMA_NAMES.length) + 1}`,
        address: `${rng.between(1, 120)} Central Street`,
        timezone: CITIES[cityIndex % CITIES.length]![1],
        currency: 'RUB',
        defaultPrices: Object.fromEntries(
          Object.entries(DEFAULT_PRICES).map(([category, price]) => [category, price + surcharge]),
        ),
      };
    }),
  );
  progress(`cinemas   ${cinemas.length}/${size.cinemas} (${elapsed()})`);

  const halls: { id: number; cinemaIndex: number }[] = [];
  const hallTotal = cinemas.length * size.hallsPerCinema;
  for (const [cinemaIndex, cinema] of cinemas.entries()) {
    for (let number = 1; number <= size.hallsPerCinema; number += 1) {
      const rows = normalizeLayout(demoLayout(rng.between(8, 16), rng.between(12, 26)));
      const hall = await hallsRepository.insert(db, {
        cinemaId: cinema.id,
        name: `Hall ${number}`,
        seatCount: countSeats(rows),
      });
      await hallsRepository.replaceLayout(db, hall.id, rows);
      halls.push({ id: hall.id, cinemaIndex });
    }
    if ((cinemaIndex + 1) % 10 === 0 || cinemaIndex === cinemas.length - 1) {
      progress(`halls     ${halls.length}/${hallTotal} (${elapsed()})`);
    }
  }

  const films = await bulkRepository.insertFilms(
    db,
    Array.from({ length: size.films }, (_, index) => ({
      title: `The ${FILM_WORDS[index % FILM_WORDS.length]} ${FILM_NOUNS[(index * 7) % FILM_NOUNS.length]}${index >= FILM_WORDS.length ? ` ${Math.floor(index / FILM_WORDS.length) + 1}` : ''}`,
      durationMinutes: rng.between(85, 165),
      ageRating: AGE_RATINGS[index % AGE_RATINGS.length]!,
      description: 'A demo film.',
    })),
  );
  progress(`films     ${films.length}/${size.films} (${elapsed()})`);

  const categoriesByHall = new Map<number, string[]>();
  for (const hall of halls) categoriesByHall.set(hall.id, await hallsRepository.categories(db, hall.id));

  const now = Date.now();
  const showings = [];
  for (const [hallIndex, hall] of halls.entries()) {
    const cinema = cinemas[hall.cinemaIndex]!;
    const prices = Object.fromEntries(
      categoriesByHall.get(hall.id)!.map((category) => [category, cinema.defaultPrices[category]!]),
    );
    const today = localDate(cinema.timezone, now);
    for (let day = 0; day < size.days; day += 1) {
      const date = addDays(today, day);
      let minutes = FIRST_SHOW_MINUTES + (hallIndex % 4) * 10;
      for (let count = 0; count < size.showingsPerHallPerDay && minutes <= LAST_START_MINUTES; count += 1) {
        const film = films[(hallIndex + day + count) % films.length]!;
        const startsAt = zonedInstant(date, minutes, cinema.timezone);
        const endsAt = new Date(startsAt.getTime() + film.durationMinutes * 60_000);
        const blockedUntil = new Date(endsAt.getTime() + size.cleaningGapMinutes * 60_000);
        if (startsAt.getTime() > now) {
          showings.push({ hallId: hall.id, filmId: film.id, startsAt, endsAt, blockedUntil, prices, currency: 'RUB' });
        }
        minutes = roundUpTo(minutes + film.durationMinutes + size.cleaningGapMinutes, 10);
      }
    }
  }
  await bulkRepository.insertShowings(db, showings);
  progress(`showings  ${showings.length} (${elapsed()})`);
  return {
    cities: cities.length,
    cinemas: cinemas.length,
    halls: halls.length,
    films: films.length,
    showings: showings.length,
  };
}

/** Seeds the small demo set on a fresh database; several instances starting together seed it once. */
export async function seedWhenEmpty(
  db: Db,
  cleaningGapMinutes: number,
  log: { info: (obj: object, msg: string) => void },
) {
  await db.transaction(async (trx) => {
    await bulkRepository.lockSeeding(trx);
    if (!(await bulkRepository.catalogIsEmpty(trx))) return;
    const counts = await seedDemoData(trx, { ...SMALL_DEMO, cleaningGapMinutes });
    log.info(counts, 'seeded demo data into the empty database');
  });
}
