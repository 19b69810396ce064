import { cinemasRepository, type CinemaWrite } from '../../db/repositories/cinemas.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import { paginate, type PageRequest } from '../pagination.js';
import { translateViolations } from '../violations.js';

/** Prices in minor units (kopecks, cents) used when a cinema names none of its own. */
export const DEFAULT_PRICES = { standard: 45_000, vip: 90_000, double: 100_000, wheelchair: 30_000 };

const cityMissing = (cityId: number | undefined) => () =>
  new DomainError('CITY_NOT_FOUND', `City ${cityId} does not exist`);

export const listCinemas = ({ db }: Deps, page: PageRequest & { cityId?: number }) =>
  paginate(page, (keyset) => cinemasRepository.list(db, { ...keyset, filter: { cityId: page.cityId } }));

export const getCinema = async ({ db }: Deps, id: number) =>
  foundOr(await cinemasRepository.get(db, id), 'CINEMA_NOT_FOUND', 'Cinema', id);

export const createCinema = (
  { db }: Deps,
  cinema: Omit<CinemaWrite, 'defaultPrices'> & { defaultPrices?: CinemaWrite['defaultPrices'] },
) =>
  translateViolations(
    () => cinemasRepository.insert(db, { ...cinema, defaultPrices: { ...DEFAULT_PRICES, ...cinema.defaultPrices } }),
    { cinemas_city_id_fkey: cityMissing(cinema.cityId) },
  );

/**
 * Changing the time zone or prices affects showings created later; a showing keeps its own prices.
 * New default prices are merged over the built-in ones, as on creation, so every category keeps a price.
 */
export const updateCinema = async ({ db }: Deps, id: number, changes: Partial<CinemaWrite>) =>
  foundOr(
    await translateViolations(
      () =>
        cinemasRepository.update(db, id, {
          ...changes,
          defaultPrices: changes.defaultPrices && { ...DEFAULT_PRICES, ...changes.defaultPrices },
        }),
      { cinemas_city_id_fkey: cityMissing(changes.cityId) },
    ),
    'CINEMA_NOT_FOUND',
    'Cinema',
    id,
  );

export const deleteCinema = async ({ db }: Deps, id: number) => {
  const deleted = await translateViolations(() => cinemasRepository.delete(db, id), {
    halls_cinema_id_fkey: () => new DomainError('CINEMA_HAS_HALLS', `Cinema ${id} still has halls; delete them first`),
  });
  if (!deleted) foundOr(undefined, 'CINEMA_NOT_FOUND', 'Cinema', id);
};
