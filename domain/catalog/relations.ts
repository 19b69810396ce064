import type { Deps } from '../context.js';
import type { Actor } from '../model/actors.js';
import type { PageRequest } from '../pagination.js';
import { getCinema, listCinemas } from './cinemas.js';
import { getCity } from './cities.js';
import { getFilm } from './films.js';
import { listHalls } from './halls.js';
import { hallsRepository } from '../../db/repositories/halls.js';
import { foundOr } from '../errors.js';
import { ensureManages } from '../operators/acting.js';
import { listShowings } from './showings.js';
import type { ShowingFilter } from '../../db/repositories/showings.js';

// Under a parent path an unknown parent is a 404, not an empty list; an operator's key sees its own
// cinemas alone, here as on every catalog read.

export const cinemasOfCity = async (deps: Deps, cityId: number, page: PageRequest, viewer?: Actor) => {
  await getCity(deps, cityId);
  return listCinemas(deps, { ...page, cityId }, viewer);
};

export const hallsOfCinema = async (deps: Deps, cinemaId: number, page: PageRequest, viewer?: Actor) => {
  await getCinema(deps, cinemaId, viewer);
  return listHalls(deps, { ...page, cinemaId }, viewer);
};

export const showingsOfFilm = async (
  deps: Deps,
  filmId: number,
  request: PageRequest & ShowingFilter,
  viewer?: Actor,
) => {
  await getFilm(deps, filmId);
  return listShowings(deps, { ...request, filmId }, viewer);
};

export const showingsOfHall = async (
  deps: Deps,
  hallId: number,
  request: PageRequest & ShowingFilter,
  viewer?: Actor,
) => {
  await ensureManages(deps.db, viewer, { hallId });
  foundOr(await hallsRepository.get(deps.db, hallId), 'HALL_NOT_FOUND', 'Hall', hallId);
  return listShowings(deps, { ...request, hallId }, viewer);
};

export const showingsOfCinema = async (
  deps: Deps,
  cinemaId: number,
  request: PageRequest & ShowingFilter,
  viewer?: Actor,
) => {
  await getCinema(deps, cinemaId, viewer);
  return listShowings(deps, { ...request, cinemaId }, viewer);
};
