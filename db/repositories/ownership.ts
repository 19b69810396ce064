import type { Ownership } from '../../domain/model/actors.js';
import type { Db } from '../connection.js';

/** A management target: a cinema, or what belongs to one through its hall. */
export type ManagedTarget = { cinemaId: number } | { hallId: number } | { showingId: number };

/** The operator owning the target (null: the platform's own); undefined when the target does not exist. */
export function ownerOf(db: Db, target: ManagedTarget): Promise<Ownership | undefined> {
  if ('cinemaId' in target) return db('cinemas').first('operator_id as operatorId').where('id', target.cinemaId);
  if ('hallId' in target) {
    return db({ h: 'halls' })
      .join({ c: 'cinemas' }, 'c.id', 'h.cinema_id')
      .first('c.operator_id as operatorId')
      .where('h.id', target.hallId);
  }
  return db({ s: 'showings' })
    .join({ h: 'halls' }, 'h.id', 's.hall_id')
    .join({ c: 'cinemas' }, 'c.id', 'h.cinema_id')
    .first('c.operator_id as operatorId')
    .where('s.id', target.showingId);
}
