import { filmsRepository, type FilmWrite } from '../../db/repositories/films.js';
import type { Deps } from '../context.js';
import type { Actor } from '../model/actors.js';
import { asActor } from '../operators/acting.js';
import { DomainError, foundOr } from '../errors.js';
import { paginate, type PageRequest } from '../pagination.js';
import { retryingDeadlock } from '../../db/violations.js';
import { translateViolations } from '../violations.js';

export const listFilms = ({ db }: Deps, page: PageRequest) =>
  paginate(page, (keyset) => filmsRepository.list(db, keyset));

export const getFilm = async ({ db }: Deps, id: number) =>
  foundOr(await filmsRepository.get(db, id), 'FILM_NOT_FOUND', 'Film', id);

export const createFilm = (deps: Deps, actor: Actor, film: FilmWrite) =>
  asActor(deps, actor, ({ db }) => filmsRepository.insert(db, film));

/** A new duration applies to showings created afterwards; existing showings keep their times. */
export const updateFilm = async (deps: Deps, actor: Actor, id: number, changes: Partial<FilmWrite>) =>
  foundOr(
    await asActor(deps, actor, ({ db }) => filmsRepository.update(db, id, changes)),
    'FILM_NOT_FOUND',
    'Film',
    id,
  );

/** Run again once if PostgreSQL broke a deadlock with a showing's cancellation (its row checks the film's key). */
export const deleteFilm = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(
    () => retryingDeadlock(() => asActor(deps, actor, ({ db }) => filmsRepository.delete(db, id))),
    {
      showings_film_id_fkey: () => new DomainError('FILM_HAS_SHOWINGS', `Film ${id} still has showings`),
    },
  );
  if (!deleted) foundOr(undefined, 'FILM_NOT_FOUND', 'Film', id);
};
