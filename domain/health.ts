import type { Deps } from './context.js';

/** Ready means both stores answer: a load balancer stops sending traffic to an instance that is not. */
export async function checkReadiness({ db, redis }: Deps) {
  const probe = async (check: () => Promise<unknown>) => {
    try {
      await check();
      return 'ok' as const;
    } catch {
      return 'unavailable' as const;
    }
  };
  const [database, cache] = await Promise.all([probe(() => db.raw('SELECT 1')), probe(() => redis.ping())]);
  return { ready: database === 'ok' && cache === 'ok', checks: { database, redis: cache } };
}
