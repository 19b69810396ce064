export type Readiness = { ready: boolean; checks: Record<string, 'ok' | 'unavailable'> };

/**
 * Ready means every store answers: a load balancer stops sending traffic to an instance that is not.
 * The checks run at once; each one that throws counts as unavailable.
 */
export function readinessProbe(checks: Record<string, () => Promise<unknown>>): () => Promise<Readiness> {
  return async () => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    return { ready: results.every(([, state]) => state === 'ok'), checks: Object.fromEntries(results) };
  };
}
