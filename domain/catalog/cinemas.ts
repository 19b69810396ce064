import { cinemasRepository, type CinemaWrite } from '../../db/repositories/cinemas.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import type { Actor } from '../model/actors.js';
import { asActor, ensureManages, operatorScope } from '../operators/acting.js';
import { paginate, type PageRequest } from '../pagination.js';
import { translateViolations } from '../violations.js';

/** Prices in minor units (kopecks, cents) used when a cinema names none of its own. */
export const DEFAULT_PRICES = { standard: 45_000, vip: 90_000, double: 100_000, wheelchair: 30_000 };

type CinemaInput = Omit<CinemaWrite, 'defaultPrices' | 'operatorId'> & {
  defaultPrices?: CinemaWrite['defaultPrices'];
  operatorId?: number | null;
};

const cinemaViolations = (changes: { cityId?: number; operatorId?: number | null }) => ({
  cinemas_city_id_fkey: () => new DomainError('CITY_NOT_FOUND', `City ${changes.cityId} does not exist`),
  cinemas_operator_id_fkey: () => operatorNotFound(changes.operatorId),
});

const operatorNotFound = (operatorId: number | null | undefined) =>
  new DomainError('OPERATOR_NOT_FOUND', `Operator ${operatorId} does not exist`);

/**
 * Who owns the cinema once written: an operator's cinemas are its own (naming another operator is
 * naming one it cannot see); the admin may give a cinema to any operator, or keep it (null).
 */
function ownerAfterWrite(actor: Actor, requested: number | null | undefined): number | null | undefined {
  if (actor.kind === 'admin') return requested;
  if (requested === null) throw new DomainError('FORBIDDEN', 'Only the admin takes a cinema from its operator');
  if (requested !== undefined && requested !== actor.operatorId) throw operatorNotFound(requested);
  return actor.operatorId;
}

export const listCinemas = ({ db }: Deps, page: PageRequest & { cityId?: number }, viewer?: Actor) =>
  paginate(page, (keyset) =>
    cinemasRepository.list(db, { ...keyset, filter: { cityId: page.cityId, operatorId: operatorScope(viewer) } }),
  );

export const getCinema = async ({ db }: Deps, id: number, viewer?: Actor) => {
  await ensureManages(db, viewer, { cinemaId: id });
  return foundOr(await cinemasRepository.get(db, id), 'CINEMA_NOT_FOUND', 'Cinema', id);
};

export const createCinema = (deps: Deps, actor: Actor, cinema: CinemaInput) => {
  const operatorId = ownerAfterWrite(actor, cinema.operatorId) ?? null;
  return translateViolations(
    () =>
      asActor(deps, actor, ({ db }) =>
        cinemasRepository.insert(db, {
          ...cinema,
          operatorId,
          defaultPrices: { ...DEFAULT_PRICES, ...cinema.defaultPrices },
        }),
      ),
    cinemaViolations({ cityId: cinema.cityId, operatorId }),
  );
};

/**
 * Changing the time zone or prices affects showings created later; a showing keeps its own prices.
 * New default prices are merged over the built-in ones, as on creation, so every category keeps a price.
 */
export const updateCinema = async (deps: Deps, actor: Actor, id: number, changes: Partial<CinemaInput>) => {
  const operatorId = ownerAfterWrite(actor, changes.operatorId);
  const updated = await translateViolations(
    () =>
      asActor(deps, actor, async ({ db }) => {
        await ensureManages(db, actor, { cinemaId: id });
        return cinemasRepository.update(db, id, {
          ...changes,
          operatorId: actor.kind === 'admin' ? changes.operatorId : undefined,
          defaultPrices: changes.defaultPrices && { ...DEFAULT_PRICES, ...changes.defaultPrices },
        });
      }),
    cinemaViolations({ cityId: changes.cityId, operatorId }),
  );
  return foundOr(updated, 'CINEMA_NOT_FOUND', 'Cinema', id);
};

export const deleteCinema = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(
    () =>
      asActor(deps, actor, async ({ db }) => {
        await ensureManages(db, actor, { cinemaId: id });
        return cinemasRepository.delete(db, id);
      }),
    {
      halls_cinema_id_fkey: () =>
        new DomainError('CINEMA_HAS_HALLS', `Cinema ${id} still has halls; delete them first`),
    },
  );
  if (!deleted) foundOr(undefined, 'CINEMA_NOT_FOUND', 'Cinema', id);
};
