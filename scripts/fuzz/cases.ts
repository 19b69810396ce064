import { MUTATIONS } from './mutations.js';
import { Random } from './random.js';
import {
  finish,
  isDestructive,
  validDraft,
  type Context,
  type Credentials,
  type Fixtures,
  type FuzzCase,
  type Operation,
} from './requests.js';

/**
 * Fuzz cases built from the OpenAPI document: for one operation, a valid request first (real ids of
 * the fixtures where the operation names an entity), then one or two mutations of a kind drawn at
 * random among those that apply to it (scripts/fuzz/mutations.ts). Everything drawn comes from the
 * case's own generator, seeded with the run's seed and the case's number: a case can be made again.
 */

/**
 * Case `index` of a run: its operation (round robin over the operations, so each gets its share),
 * a valid request, then a mutation (a second one in one case of five; no token on a guarded route in
 * one of ten).
 */
export function generateCase(
  seed: number,
  index: number,
  operations: Operation[],
  fixtures: Fixtures,
  credentials: Credentials,
): FuzzCase {
  const random = new Random(seed, index);
  const op = operationOf(operations, index);
  const set = isDestructive(op) ? fixtures.spare : fixtures.main;
  const ctx: Context = { seed, random, fixtures, set, op, credentials, index };
  const draft = validDraft(ctx);
  const applicable = Object.entries(MUTATIONS).filter(([, mutation]) => mutation.applies(op));
  const kinds: string[] = [];
  if (random.chance(0.05)) kinds.push('valid');
  else {
    const first = random.weighted(applicable.map(([name, mutation]) => [name, mutation.weight] as const));
    kinds.push(first);
    if (random.chance(0.2)) {
      const second = random.weighted(
        applicable.filter(([name]) => name !== first).map(([name, mutation]) => [name, mutation.weight] as const),
      );
      kinds.push(second);
    }
  }
  // The largest valid body first, so that another mutation changes it rather than being replaced by it.
  const ordered = [...kinds].sort((a, b) => Number(b === 'max-valid') - Number(a === 'max-valid'));
  for (const kind of ordered) if (kind !== 'valid') MUTATIONS[kind]!.apply(draft, ctx);
  if (op.scheme && !kinds.includes('auth') && random.chance(0.1)) {
    delete draft.headers.authorization;
    kinds.push('no-token');
  }
  return finish(draft, ctx, kinds);
}

/** The operation case `index` is about: round robin, so that each operation gets its share. */
export const operationOf = (operations: Operation[], index: number) => operations[index % operations.length]!;

/** The request of an operation without any mutation (its valid draft), as the fixtures' cursor harvest needs. */
export function validCase(seed: number, op: Operation, fixtures: Fixtures, credentials: Credentials): FuzzCase {
  const random = new Random(seed, `valid:${op.key}`);
  const ctx: Context = { seed, random, fixtures, set: fixtures.main, op, credentials, index: -1 };
  return finish(validDraft(ctx), ctx, ['valid']);
}
