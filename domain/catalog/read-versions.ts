import type { Db } from '../../db/connection.js';
import { readVersionsRepository } from '../../db/repositories/read-versions.js';
import type { ReadVersions } from '../model/read-versions.js';
import type { BatcherFactory } from '../ports.js';

export type VersionProbe = ReturnType<typeof createVersionProbe>;

/**
 * How a reader learns whether its cached answer is still exact. Every request's probe is a statement
 * that starts after the request arrived, so whatever was committed before the request is seen: a
 * cached seat map or schedule is served only if it is the current state. Concurrent requests share
 * one statement (at most one in flight per process; those arriving meanwhile share the next), so a
 * thousand readers cost a thousand index lookups in a few statements, not a thousand queries.
 */
export function createVersionProbe(db: Db, batcher: BatcherFactory) {
  const probes = batcher<number[], ReadVersions>(
    async (requests) => {
      // Readers of one schedule ask with the same array: each array is taken once.
      const versions = await readVersionsRepository.probe(db, [...new Set([...new Set(requests)].flat())]);
      return requests.map(() => versions);
    },
    { windowMs: 0, maxSize: 200, maxInFlight: 1 },
  );
  return {
    /** The current versions of the catalog and of these showings (a missing showing is left out). */
    of: (showingIds: number[]): Promise<ReadVersions> => probes.add(showingIds),
    drain: () => probes.drain(),
  };
}
