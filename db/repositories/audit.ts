import type { Actor } from '../../domain/model/actors.js';
import type { Db } from '../connection.js';
import { pageAfter, type After } from '../keyset.js';

export type AuditRow = {
  id: number;
  at: Date;
  actor: string;
  actorOperatorId: number | null;
  actorKeyId: number | null;
  request: string | null;
  operatorId: number | null;
  entity: string;
  entityId: string;
  action: 'insert' | 'update' | 'delete';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
};
export type AuditFilter = { operatorId?: number; entity?: string; entityId?: string };

export const auditRepository = {
  /**
   * Names the actor of the transaction `trx` for the audit trigger (migration 009): every audited
   * write in it is recorded in it, under this actor, and the name ends with the transaction.
   */
  actAs: async (trx: Db, actor: Actor): Promise<void> => {
    const context = {
      actor: actor.kind === 'admin' ? 'admin' : `operator ${actor.operatorId} (key ${actor.keyId})`,
      operatorId: actor.kind === 'operator' ? actor.operatorId : null,
      keyId: actor.kind === 'operator' ? actor.keyId : null,
      request: actor.request ?? null,
    };
    await trx.raw("SELECT set_config('cinema.audit', ?, true)", [JSON.stringify(context)]);
  },

  list: (
    db: Db,
    { filter, after, limit }: { filter: AuditFilter; after?: After; limit: number },
  ): Promise<AuditRow[]> => {
    const query = db('audit_log').select(
      'id',
      'at',
      'actor',
      'actor_operator_id as actorOperatorId',
      'actor_key_id as actorKeyId',
      'request',
      'operator_id as operatorId',
      'entity',
      'entity_id as entityId',
      'action',
      'before',
      'after',
    );
    if (filter.operatorId !== undefined) query.where('operator_id', filter.operatorId);
    if (filter.entity !== undefined) query.where('entity', filter.entity);
    if (filter.entityId !== undefined) query.where('entity_id', filter.entityId);
    return pageAfter(query, { sortColumn: 'id', idColumn: 'id', after, limit });
  },
};
