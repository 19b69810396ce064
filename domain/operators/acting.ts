import { auditRepository } from '../../db/repositories/audit.js';
import { ownerOf, type ManagedTarget } from '../../db/repositories/ownership.js';
import type { Db } from '../../db/connection.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import type { Actor } from '../model/actors.js';

/**
 * Runs a management write in one transaction that names its actor: the audit trigger records every
 * audited row the write changes in that same transaction, so a write and its record commit together.
 */
export const asActor = <T>(deps: Deps, actor: Actor, write: (scoped: Deps) => Promise<T>): Promise<T> =>
  deps.db.transaction(async (trx) => {
    await auditRepository.actAs(trx, actor);
    return write({ ...deps, db: trx });
  });

const notFound = (target: ManagedTarget) => {
  if ('cinemaId' in target) return new DomainError('CINEMA_NOT_FOUND', `Cinema ${target.cinemaId} does not exist`);
  if ('hallId' in target) return new DomainError('HALL_NOT_FOUND', `Hall ${target.hallId} does not exist`);
  return new DomainError('SHOWING_NOT_FOUND', `Showing ${target.showingId} does not exist`);
};

/**
 * An operator manages only what belongs to its own cinemas: anything else answers the same
 * NOT_FOUND as an id that does not exist, so that no operator learns what another one has. The
 * admin manages everything (the use case then finds out whether the target exists).
 */
export async function ensureManages(db: Db, actor: Actor | undefined, target: ManagedTarget): Promise<void> {
  if (actor?.kind !== 'operator') return;
  const owner = await ownerOf(db, target);
  if (owner?.operatorId !== actor.operatorId) throw notFound(target);
}

/** The operator whose objects alone a reader sees: an operator's key narrows every catalog read to its own cinemas. */
export const operatorScope = (viewer: Actor | undefined) =>
  viewer?.kind === 'operator' ? viewer.operatorId : undefined;
