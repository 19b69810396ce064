import type { Prices } from '../../db/repositories/cinemas.js';
import { cinemasRepository } from '../../db/repositories/cinemas.js';
import { filmsRepository } from '../../db/repositories/films.js';
import { hallsRepository } from '../../db/repositories/halls.js';
import { showingsRepository, type ShowingFilter, type ShowingRow } from '../../db/repositories/showings.js';
import type { Db } from '../../db/connection.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import { isInstantKey, paginate, type PageRequest } from '../pagination.js';
import { translateViolations } from '../violations.js';
import type { Actor } from '../model/actors.js';
import { asActor, ensureManages, operatorScope } from '../operators/acting.js';

const MINUTE = 60_000;

export type Showing = Omit<ShowingRow, 'takenSeats'> & { freeSeats: number; status: 'scheduled' | 'cancelled' };

const presented = ({ takenSeats, ...row }: ShowingRow): Showing => ({
  ...row,
  status: row.cancelledAt ? 'cancelled' : 'scheduled',
  freeSeats: row.seatCount - takenSeats,
});

/** Keeps exactly the hall's categories; a category the hall has but no price covers is refused. */
function pricesForHall(categories: string[], offered: Prices): Prices {
  const missing = categories.filter((category) => offered[category] === undefined);
  if (missing.length > 0) {
    throw new DomainError('PRICE_MISSING', `No price for seat categories: ${missing.join(', ')}`, { missing });
  }
  return Object.fromEntries(categories.map((category) => [category, offered[category]!]));
}

function showingTimes(startsAt: Date, durationMinutes: number, cleaningGapMinutes: number) {
  if (startsAt.getTime() <= Date.now()) throw new DomainError('SHOWING_IN_PAST', 'A showing must start in the future');
  const endsAt = new Date(startsAt.getTime() + durationMinutes * MINUTE);
  return { startsAt, endsAt, blockedUntil: new Date(endsAt.getTime() + cleaningGapMinutes * MINUTE) };
}

/** Where a write put a showing: what explains an overlap. */
type Placement = { hallId: number; startsAt: Date; blockedUntil: Date; exceptId?: number };

/**
 * The domain errors of a showing's refused write, named once its transaction has ended: `placed`
 * holds where the write tried to put it. Asking for the overlapping showings on another connection
 * while the write's transaction still held its own could leave a small pool with every connection
 * waiting for a second one.
 */
function showingViolations(db: Db, placed: { current?: Placement }) {
  return {
    showings_no_overlap: async () =>
      new DomainError(
        'SHOWING_OVERLAP',
        `Hall ${placed.current?.hallId} is busy then (showing times include the cleaning gap)`,
        { overlappingShowingIds: await showingsRepository.overlapping(db, placed.current!) },
      ),
    showings_hall_id_fkey: () => new DomainError('HALL_NOT_FOUND', `Hall ${placed.current?.hallId} does not exist`),
    showings_film_id_fkey: () => new DomainError('FILM_NOT_FOUND', 'The film does not exist'),
  };
}

export const listShowings = async ({ db }: Deps, request: PageRequest & ShowingFilter, viewer?: Actor) => {
  const page = await paginate(
    request,
    (keyset) => showingsRepository.list(db, { ...keyset, filter: { ...request, operatorId: operatorScope(viewer) } }),
    (row) => row.startsAt.toISOString(),
    isInstantKey,
  );
  return { ...page, data: page.data.map(presented) };
};

export const getShowing = async ({ db }: Deps, id: number, viewer?: Actor): Promise<Showing> => {
  await ensureManages(db, viewer, { showingId: id });
  return presented(foundOr(await showingsRepository.get(db, id), 'SHOWING_NOT_FOUND', 'Showing', id));
};

/** The end follows from the film's length; prices default to the cinema's, per seat category of the hall. */
export const createShowing = async (
  deps: Deps,
  actor: Actor,
  input: { hallId: number; filmId: number; startsAt: Date; prices?: Prices },
) => {
  const placed: { current?: Placement } = {};
  const id = await translateViolations(
    () => asActor(deps, actor, (scoped) => insertShowing(scoped, actor, input, placed)),
    showingViolations(deps.db, placed),
  );
  return getShowing(deps, id);
};

async function insertShowing(
  { db, config }: Deps,
  actor: Actor,
  input: { hallId: number; filmId: number; startsAt: Date; prices?: Prices },
  placed: { current?: Placement },
): Promise<number> {
  await ensureManages(db, actor, { hallId: input.hallId });
  const film = foundOr(await filmsRepository.get(db, input.filmId), 'FILM_NOT_FOUND', 'Film', input.filmId);
  const hall = foundOr(await hallsRepository.get(db, input.hallId), 'HALL_NOT_FOUND', 'Hall', input.hallId);
  const cinema = foundOr(await cinemasRepository.get(db, hall.cinemaId), 'CINEMA_NOT_FOUND', 'Cinema', hall.cinemaId);
  const times = showingTimes(input.startsAt, film.durationMinutes, config.CLEANING_GAP_MINUTES);
  const prices = pricesForHall(await hallsRepository.categories(db, hall.id), {
    ...cinema.defaultPrices,
    ...input.prices,
  });
  placed.current = { hallId: hall.id, ...times };
  return showingsRepository.insert(db, {
    hallId: hall.id,
    filmId: film.id,
    ...times,
    prices,
    currency: cinema.currency,
  });
}

/**
 * Prices may change at any time (they apply to orders placed afterwards). Time and film may change
 * only while no seat is held or sold, since buyers chose the showing by them.
 */
export const updateShowing = async (
  deps: Deps,
  actor: Actor,
  id: number,
  changes: { startsAt?: Date; filmId?: number; prices?: Prices },
) => {
  const placed: { current?: Placement } = {};
  await translateViolations(
    () => asActor(deps, actor, (scoped) => changeShowing(scoped, actor, id, changes, placed)),
    showingViolations(deps.db, placed),
  );
  return getShowing(deps, id);
};

async function changeShowing(
  { db: trx, config }: Deps,
  actor: Actor,
  id: number,
  changes: { startsAt?: Date; filmId?: number; prices?: Prices },
  placed: { current?: Placement },
): Promise<void> {
  await ensureManages(trx, actor, { showingId: id });
  foundOr(await showingsRepository.lockForUpdate(trx, id), 'SHOWING_NOT_FOUND', 'Showing', id);
  const current = (await showingsRepository.get(trx, id))!;
  const prices = changes.prices && pricesForHall(Object.keys(current.prices), { ...current.prices, ...changes.prices });
  const moves = changes.startsAt !== undefined || changes.filmId !== undefined;
  if (!moves) {
    await showingsRepository.update(trx, id, { prices });
    return;
  }
  if (await showingsRepository.hasActiveTickets(trx, id)) {
    throw new DomainError('SHOWING_HAS_TICKETS', `Showing ${id} has tickets; its time and film can no longer change`);
  }
  const filmId = changes.filmId ?? current.filmId;
  const film = foundOr(await filmsRepository.get(trx, filmId), 'FILM_NOT_FOUND', 'Film', filmId);
  const times = showingTimes(changes.startsAt ?? current.startsAt, film.durationMinutes, config.CLEANING_GAP_MINUTES);
  placed.current = { hallId: current.hallId, ...times, exceptId: id };
  await showingsRepository.update(trx, id, { filmId, prices, ...times });
}

export const deleteShowing = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(
    () =>
      asActor(deps, actor, async ({ db }) => {
        await ensureManages(db, actor, { showingId: id });
        return showingsRepository.delete(db, id);
      }),
    {
      orders_showing_id_fkey: () =>
        new DomainError('SHOWING_HAS_ORDERS', `Showing ${id} has orders; cancel the showing instead of deleting it`),
    },
  );
  if (!deleted) foundOr(undefined, 'SHOWING_NOT_FOUND', 'Showing', id);
};
