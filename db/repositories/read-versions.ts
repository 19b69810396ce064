import type { ReadVersions, ShowingStamp } from '../../domain/model/read-versions.js';
import type { Db } from '../connection.js';
import { runPrepared } from '../prepared.js';

/** What readers ask on every request to tell whether their cached answer is still exact. */
export const readVersionsRepository = {
  /**
   * The catalog's version and the stamps of these showings (missing ones are left out), in one
   * statement: a few index lookups, whatever the number of concurrent readers asking.
   */
  probe: async (db: Db, showingIds: number[]): Promise<ReadVersions> => {
    const rows = await runPrepared<{ catalog: string; id: number | null; seatVersion: number; taken: number }>(
      db,
      'read-versions-probe',
      `SELECT c.version AS catalog, s.id, s.seat_version AS "seatVersion", s.taken_seats AS taken
       FROM catalog_version c LEFT JOIN showings s ON s.id = ANY($1::bigint[])`,
      [showingIds],
    );
    const showings = new Map<number, ShowingStamp>();
    for (const row of rows)
      if (row.id !== null) showings.set(row.id, { seatVersion: row.seatVersion, taken: row.taken });
    return { catalog: Number(rows[0]!.catalog), showings };
  },

  /** The catalog's version, read inside the caller's transaction (with what it reads of the catalog). */
  catalog: async (trx: Db): Promise<number> => {
    const [row] = await runPrepared<{ version: string }>(
      trx,
      'read-versions-catalog',
      'SELECT version FROM catalog_version',
      [],
    );
    return Number(row!.version);
  },
};
