import { citiesRepository, type CityWrite } from '../../db/repositories/cities.js';
import type { Deps } from '../context.js';
import type { Actor } from '../model/actors.js';
import { asActor } from '../operators/acting.js';
import { DomainError, foundOr } from '../errors.js';
import { paginate, type PageRequest } from '../pagination.js';
import { translateViolations } from '../violations.js';

const nameTaken = (name: string | undefined) => () =>
  new DomainError('CITY_NAME_TAKEN', `A city named "${name}" exists already`);

export const listCities = ({ db }: Deps, page: PageRequest) =>
  paginate(page, (keyset) => citiesRepository.list(db, keyset));

export const getCity = async ({ db }: Deps, id: number) =>
  foundOr(await citiesRepository.get(db, id), 'CITY_NOT_FOUND', 'City', id);

export const createCity = (deps: Deps, actor: Actor, city: CityWrite) =>
  translateViolations(() => asActor(deps, actor, ({ db }) => citiesRepository.insert(db, city)), {
    cities_name_key: nameTaken(city.name),
  });

export const updateCity = async (deps: Deps, actor: Actor, id: number, changes: Partial<CityWrite>) =>
  foundOr(
    await translateViolations(() => asActor(deps, actor, ({ db }) => citiesRepository.update(db, id, changes)), {
      cities_name_key: nameTaken(changes.name),
    }),
    'CITY_NOT_FOUND',
    'City',
    id,
  );

export const deleteCity = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(() => asActor(deps, actor, ({ db }) => citiesRepository.delete(db, id)), {
    cinemas_city_id_fkey: () => new DomainError('CITY_HAS_CINEMAS', `City ${id} still has cinemas; delete them first`),
  });
  if (!deleted) foundOr(undefined, 'CITY_NOT_FOUND', 'City', id);
};
