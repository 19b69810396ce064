import { hallsRepository } from '../../db/repositories/halls.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import { countSeats, normalizeLayout, type LayoutInput } from '../layout.js';
import { paginate, type PageRequest } from '../pagination.js';
import { DEFAULT_SEATING_RULES, type SeatingRules } from '../model/seating.js';
import { retryingDeadlock } from '../../db/violations.js';
import { translateViolations } from '../violations.js';
import type { Actor } from '../model/actors.js';
import { asActor, ensureManages, operatorScope } from '../operators/acting.js';

const hallViolations = (name: string | undefined, cinemaId?: number) => ({
  halls_name_key: () => new DomainError('HALL_NAME_TAKEN', `The cinema has a hall named "${name}" already`),
  halls_cinema_id_fkey: () => new DomainError('CINEMA_NOT_FOUND', `Cinema ${cinemaId} does not exist`),
});

const hallHasShowings = (id: number) =>
  new DomainError('HALL_HAS_SHOWINGS', `Hall ${id} has showings; its seats can no longer change or disappear`);

export const listHalls = ({ db }: Deps, page: PageRequest & { cinemaId?: number }, viewer?: Actor) =>
  paginate(page, (keyset) =>
    hallsRepository.list(db, { ...keyset, filter: { cinemaId: page.cinemaId, operatorId: operatorScope(viewer) } }),
  );

/** The hall with its drawable layout: rows with labels and positions, seats with ids and categories. */
export const getHall = async ({ db }: Deps, id: number, viewer?: Actor) => {
  await ensureManages(db, viewer, { hallId: id });
  const hall = foundOr(await hallsRepository.get(db, id), 'HALL_NOT_FOUND', 'Hall', id);
  return { ...hall, layout: { rows: await hallsRepository.layout(db, id) } };
};

export const createHall = async (
  deps: Deps,
  actor: Actor,
  input: { cinemaId: number; name: string; layout: LayoutInput; seating?: Partial<SeatingRules> },
) => {
  const rows = normalizeLayout(input.layout);
  const seatCount = countSeats(rows);
  const seating = { ...DEFAULT_SEATING_RULES, ...input.seating };
  const hall = await translateViolations(
    () =>
      asActor(deps, actor, async ({ db: trx }) => {
        await ensureManages(trx, actor, { cinemaId: input.cinemaId });
        const created = await hallsRepository.insert(trx, {
          cinemaId: input.cinemaId,
          name: input.name,
          seatCount,
          seating,
        });
        await hallsRepository.replaceLayout(trx, created.id, rows);
        return created;
      }),
    hallViolations(input.name, input.cinemaId),
  );
  return getHall(deps, hall.id);
};

/**
 * A layout may change only while no showing uses the hall: tickets point at seats. The hall row is
 * locked first, which also holds off a showing being created for it meanwhile (its foreign key check).
 * The seating settings may change at any time; the settings not given keep their values.
 */
export const updateHall = async (
  deps: Deps,
  actor: Actor,
  id: number,
  changes: { name?: string; layout?: LayoutInput; seating?: Partial<SeatingRules> },
) => {
  const rows = changes.layout && normalizeLayout(changes.layout);
  await translateViolations(
    () =>
      asActor(deps, actor, async ({ db: trx }) => {
        await ensureManages(trx, actor, { hallId: id });
        const hall = foundOr(await hallsRepository.lockForUpdate(trx, id), 'HALL_NOT_FOUND', 'Hall', id);
        if (rows) {
          if (await hallsRepository.hasShowings(trx, id)) throw hallHasShowings(id);
          await hallsRepository.replaceLayout(trx, id, rows);
        }
        await hallsRepository.update(trx, id, {
          name: changes.name,
          seatCount: rows && countSeats(rows),
          seating: changes.seating && { ...hall.seating, ...changes.seating },
        });
      }),
    hallViolations(changes.name),
  );
  return getHall(deps, id);
};

/** Run again once if PostgreSQL broke a deadlock with a showing's cancellation (its row checks the hall's key). */
export const deleteHall = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(
    () =>
      retryingDeadlock(() =>
        asActor(deps, actor, async ({ db }) => {
          await ensureManages(db, actor, { hallId: id });
          return hallsRepository.delete(db, id);
        }),
      ),
    { showings_hall_id_fkey: () => hallHasShowings(id) },
  );
  if (!deleted) foundOr(undefined, 'HALL_NOT_FOUND', 'Hall', id);
};
