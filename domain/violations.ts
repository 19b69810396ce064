import { constraintViolation } from '../db/violations.js';
import type { DomainError } from './errors.js';

/**
 * Runs a write and turns the database's refusal into the domain error it stands for.
 * The database is the judge of the invariant; this only names the verdict.
 */
export async function translateViolations<T>(
  write: () => Promise<T>,
  errorByConstraint: Record<string, () => DomainError | Promise<DomainError>>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const violation = constraintViolation(error);
    const toDomainError = violation ? errorByConstraint[violation.constraint] : undefined;
    throw toDomainError ? await toDomainError() : error;
  }
}
