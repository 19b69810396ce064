import { expect } from 'chai';
import { api } from './system.js';

let unique = 0;
const next = () => `${Date.now().toString(36)}-${(unique += 1)}`;

async function created<T>(path: string, body: object): Promise<T> {
  const response = await api<T>('POST', path, { body });
  expect(response.status, `POST ${path}: ${JSON.stringify(response.body)}`).to.equal(201);
  return response.body;
}

/** Any field the API accepts; tests also send wrong ones on purpose. */
export type Overrides = Record<string, unknown> | object;
const field = <T>(overrides: Overrides, name: string) => (overrides as Record<string, T | undefined>)[name];

export type City = { id: number; name: string };
export type Cinema = { id: number; cityId: number; timezone: string };
export type Hall = {
  id: number;
  cinemaId: number;
  seatCount: number;
  layout: { rows: { label: string; seats: { id: number; number: number; x: number; category: string }[] }[] };
};
export type Film = { id: number; durationMinutes: number };
export type Showing = {
  id: number;
  hallId: number;
  filmId: number;
  startsAt: string;
  endsAt: string;
  prices: Record<string, number>;
  freeSeats: number;
};

export const makeCity = (overrides: Overrides = {}) =>
  created<City>('/api/v1/cities', { name: `City ${next()}`, ...overrides });

export async function makeCinema(overrides: Overrides = {}) {
  const cityId = field<number>(overrides, 'cityId') ?? (await makeCity()).id;
  return created<Cinema>('/api/v1/cinemas', {
    name: `Cinema ${next()}`,
    timezone: 'Europe/Moscow',
    ...overrides,
    cityId,
  });
}

/** A small hall: rows A and B of `seatsPerRow` standard seats, an aisle after seat 2, and a vip row C. */
export function smallLayout(seatsPerRow = 4) {
  const row = (label: string, category?: string) => ({
    label,
    seats: Array.from({ length: seatsPerRow }, (_, index) => ({
      number: index + 1,
      ...(index === 2 ? { x: index + 1 } : {}),
      ...(category ? { category } : {}),
    })),
  });
  return { rows: [row('A'), row('B'), row('C', 'vip')] };
}

export async function makeHall(overrides: Overrides = {}) {
  const cinemaId = field<number>(overrides, 'cinemaId') ?? (await makeCinema()).id;
  return created<Hall>('/api/v1/halls', { name: `Hall ${next()}`, layout: smallLayout(), ...overrides, cinemaId });
}

export const makeFilm = (overrides: Overrides = {}) =>
  created<Film>('/api/v1/films', { title: `Film ${next()}`, durationMinutes: 100, ...overrides });

const DAY = 86_400_000;

export async function makeShowing(overrides: Overrides = {}) {
  const hallId = field<number>(overrides, 'hallId') ?? (await makeHall()).id;
  const filmId = field<number>(overrides, 'filmId') ?? (await makeFilm()).id;
  const startsAt = field<string>(overrides, 'startsAt') ?? new Date(Date.now() + DAY).toISOString();
  return created<Showing>('/api/v1/showings', { ...overrides, hallId, filmId, startsAt });
}
