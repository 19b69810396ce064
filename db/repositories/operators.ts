import type { Db } from '../connection.js';
import { crudRepository } from '../crud.js';
import { pageAfter, type After } from '../keyset.js';

export type OperatorRow = { id: number; name: string; createdAt: Date; updatedAt: Date };
export type OperatorWrite = { name: string };

export type ApiKeyRow = {
  id: number;
  operatorId: number;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  replacedBy: number | null;
};

/** What authentication reads of a key: its digest and whether it still counts. */
export type KeyCredentials = {
  id: number;
  operatorId: number;
  secretHash: Buffer;
  revoked: boolean;
  retiring: boolean;
  /** Its last use is older than a minute: worth writing again. */
  stale: boolean;
};

/** How precisely a key's last use is kept: authentication must not write a row per request. */
const LAST_USE_PRECISION = '1 minute';

const keyColumns = [
  'id',
  'operator_id as operatorId',
  'label',
  'created_at as createdAt',
  'last_used_at as lastUsedAt',
  'revoked_at as revokedAt',
  'replaced_by as replacedBy',
];

export const operatorsRepository = {
  ...crudRepository<OperatorRow, OperatorWrite>({
    table: 'operators',
    columns: ['id', 'name', 'created_at as createdAt', 'updated_at as updatedAt'],
    writable: { name: 'name' },
  }),

  insertKey: async (db: Db, key: { operatorId: number; label: string; secretHash: Buffer }): Promise<ApiKeyRow> => {
    const [row] = await db('operator_keys')
      .insert({ operator_id: key.operatorId, label: key.label, secret_hash: key.secretHash })
      .returning(keyColumns);
    return row;
  },

  keys: (db: Db, operatorId: number, { after, limit }: { after?: After; limit: number }): Promise<ApiKeyRow[]> =>
    pageAfter(db('operator_keys').select(keyColumns).where({ operator_id: operatorId }), {
      sortColumn: 'id',
      idColumn: 'id',
      after,
      limit,
    }),

  /** The key, locked for a revocation or rotation. */
  lockKey: (trx: Db, operatorId: number, keyId: number): Promise<ApiKeyRow | undefined> =>
    trx('operator_keys').select(keyColumns).where({ id: keyId, operator_id: operatorId }).forUpdate().first(),

  /** Revokes the key `graceSeconds` from now (0: at once); a key revoked earlier keeps its earlier time. */
  revokeKey: async (trx: Db, keyId: number, graceSeconds: number, replacedBy?: number): Promise<ApiKeyRow> => {
    const [row] = await trx('operator_keys')
      .where({ id: keyId })
      .update({
        revoked_at: trx.raw(
          "least(coalesce(revoked_at, 'infinity'::timestamptz), now() + make_interval(secs => ?::double precision))",
          [graceSeconds],
        ),
        replaced_by: trx.raw('coalesce(?::bigint, replaced_by)', [replacedBy ?? null]),
      })
      .returning(keyColumns);
    return row;
  },

  credentials: (db: Db, keyId: number): Promise<KeyCredentials | undefined> =>
    db('operator_keys')
      .first(
        'id',
        'operator_id as operatorId',
        'secret_hash as secretHash',
        db.raw('coalesce(revoked_at <= now(), false) as revoked'),
        db.raw('revoked_at IS NOT NULL as retiring'),
        db.raw(`coalesce(last_used_at < now() - interval '${LAST_USE_PRECISION}', true) as stale`),
      )
      .where({ id: keyId }),

  /** Records a use, once a minute per key at most: authentication reads whether it is due (stale). */
  touchKey: (db: Db, keyId: number) =>
    db('operator_keys')
      .where({ id: keyId })
      .where((query) =>
        query.whereNull('last_used_at').orWhereRaw(`last_used_at < now() - interval '${LAST_USE_PRECISION}'`),
      )
      .update({ last_used_at: db.fn.now() }),
};
