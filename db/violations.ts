/** PostgreSQL reports broken invariants by constraint name; callers translate them into domain errors. */
export type ConstraintViolation = {
  kind: 'unique' | 'foreign_key' | 'exclusion' | 'check';
  constraint: string;
};

const KIND_BY_SQLSTATE: Record<string, ConstraintViolation['kind']> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23P01': 'exclusion',
  '23514': 'check',
};

export function constraintViolation(error: unknown): ConstraintViolation | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, constraint } = error as { code?: string; constraint?: string };
  const kind = code ? KIND_BY_SQLSTATE[code] : undefined;
  return kind && constraint ? { kind, constraint } : null;
}

/**
 * Runs `run` again when PostgreSQL broke a deadlock by failing it (two transactions waiting on each
 * other), up to `runs` times in all; any other error goes through at once.
 */
export async function retryingDeadlock<T>(run: () => Promise<T>, runs = 2): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= runs) throw error;
    }
  }
}
