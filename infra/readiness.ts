export type Readiness = { ready: boolean; checks: Record<string, 'ok' | 'unavailable'> };

/** A check slower than this counts as unavailable: a load balancer's probe must not hang on a dead store. */
export const READINESS_TIMEOUT_MS = 1_000;

/**
 * Ready means every store answers: a load balancer stops sending traffic to an instance that is not.
 * The checks run at once; each one that throws or takes longer than READINESS_TIMEOUT_MS counts as unavailable.
 */
export function readinessProbe(checks: Record<string, () => Promise<unknown>>): () => Promise<Readiness> {
  return async () => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), READINESS_TIMEOUT_MS);
        });
        try {
          await Promise.race([check(), late]);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: results.every(([, state]) => state === 'ok'), checks: Object.fromEntries(results) };
  };
}
