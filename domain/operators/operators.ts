import { operatorsRepository, type OperatorWrite } from '../../db/repositories/operators.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import type { Actor } from '../model/actors.js';
import { paginate, type PageRequest } from '../pagination.js';
import { translateViolations } from '../violations.js';
import { asActor } from './acting.js';
import { ensureOperatorSelf } from './api-keys.js';

const nameTaken = (name: string | undefined) => () =>
  new DomainError('OPERATOR_NAME_TAKEN', `An operator named "${name}" exists already`);

export const listOperators = ({ db }: Deps, page: PageRequest) =>
  paginate(page, (keyset) => operatorsRepository.list(db, keyset));

/** The admin reads any operator; an operator reads itself. */
export const getOperator = async ({ db }: Deps, actor: Actor, id: number) => {
  ensureOperatorSelf(actor, id);
  return foundOr(await operatorsRepository.get(db, id), 'OPERATOR_NOT_FOUND', 'Operator', id);
};

export const createOperator = (deps: Deps, actor: Actor, operator: OperatorWrite) =>
  translateViolations(() => asActor(deps, actor, ({ db }) => operatorsRepository.insert(db, operator)), {
    operators_name_key: nameTaken(operator.name),
  });

export const updateOperator = async (deps: Deps, actor: Actor, id: number, changes: Partial<OperatorWrite>) =>
  foundOr(
    await translateViolations(() => asActor(deps, actor, ({ db }) => operatorsRepository.update(db, id, changes)), {
      operators_name_key: nameTaken(changes.name),
    }),
    'OPERATOR_NOT_FOUND',
    'Operator',
    id,
  );

/** Its keys go with it; its cinemas must be deleted or given to another operator first. */
export const deleteOperator = async (deps: Deps, actor: Actor, id: number) => {
  const deleted = await translateViolations(
    () => asActor(deps, actor, ({ db }) => operatorsRepository.delete(db, id)),
    {
      cinemas_operator_id_fkey: () =>
        new DomainError('OPERATOR_HAS_CINEMAS', `Operator ${id} still owns cinemas; delete or reassign them first`),
    },
  );
  if (!deleted) foundOr(undefined, 'OPERATOR_NOT_FOUND', 'Operator', id);
};
