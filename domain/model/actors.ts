/**
 * Who manages the catalog: the platform admin (the admin token), or an operator through one of its
 * API keys. `request` names the HTTP request that acts ("PATCH /api/v1/halls/12"), for the audit log.
 */
export type Actor =
  | { kind: 'admin'; request?: string }
  | {
      kind: 'operator';
      operatorId: number;
      keyId: number;
      /** The key is being replaced (a rotation's grace period): it still works, but manages no key. */
      retiring: boolean;
      request?: string;
    };

/** What a management write checks its target against: the operator owning it (null: the platform's own). */
export type Ownership = { operatorId: number | null };
