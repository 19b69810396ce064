import type { Deps } from '../context.js';
import type { PageRequest } from '../pagination.js';
import { getCinema, listCinemas } from './cinemas.js';
import { getCity } from './cities.js';
import { getFilm } from './films.js';
import { listHalls } from './halls.js';
import { hallsRepository } from '../../db/repositories/halls.js';
import { foundOr } from '../errors.js';
import { listShowings } from './showings.js';
import type { ShowingFilter } from '../../db/repositories/showings.js';

// Under a parent path an unknown parent is a 404, not an empty list.

export const cinemasOfCity = async (deps: Deps, cityId: number, page: PageRequest) => {
  await getCity(deps, cityId);
  return listCinemas(deps, { ...page, cityId });
};

export const hallsOfCinema = async (deps: Deps, cinemaId: number, page: PageRequest) => {
  await getCinema(deps, cinemaId);
  return listHalls(deps, { ...page, cinemaId });
};

export const showingsOfFilm = async (deps: Deps, filmId: number, request: PageRequest & ShowingFilter) => {
  await getFilm(deps, filmId);
  return listShowings(deps, { ...request, filmId });
};

export const showingsOfHall = async (deps: Deps, hallId: number, request: PageRequest & ShowingFilter) => {
  foundOr(await hallsRepository.get(deps.db, hallId), 'HALL_NOT_FOUND', 'Hall', hallId);
  return listShowings(deps, { ...request, hallId });
};

export const showingsOfCinema = async (deps: Deps, cinemaId: number, request: PageRequest & ShowingFilter) => {
  await getCinema(deps, cinemaId);
  return listShowings(deps, { ...request, cinemaId });
};
