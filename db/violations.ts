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
