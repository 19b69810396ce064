import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { operatorsRepository, type ApiKeyRow } from '../../db/repositories/operators.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import type { Actor } from '../model/actors.js';
import { paginate, type PageRequest } from '../pagination.js';
import { asActor } from './acting.js';

/**
 * An operator's API key reads `cop_<key id>_<secret>`: the id finds the key's row, the secret (32
 * random bytes) is checked against its stored SHA-256 digest. A fast digest is enough for a secret
 * of 256 random bits (nothing to guess), and it keeps a request's authentication at one indexed read.
 */
const KEY_FORMAT = /^cop_(\d{1,15})_([A-Za-z0-9_-]{43})$/;

const digest = (value: string) => createHash('sha256').update(value).digest();

const forbidden = () => new DomainError('FORBIDDEN', 'The token does not allow this');

/** A key as its owner sees it, and the whole key once, when it is issued. */
type IssuedKey = ApiKeyRow & { key: string };

const keyNotFound = (keyId: number) => new DomainError('API_KEY_NOT_FOUND', `API key ${keyId} does not exist`);

/** The operator's own routes are the admin's and its own: another operator's answer as if it did not exist. */
export function ensureOperatorSelf(actor: Actor, operatorId: number): void {
  if (actor.kind === 'operator' && actor.operatorId !== operatorId) {
    throw new DomainError('OPERATOR_NOT_FOUND', `Operator ${operatorId} does not exist`);
  }
}

/**
 * Keys are managed by the admin or by one of the operator's keys that is not being replaced: a key
 * rotated because it leaked must not mint a new key, nor revoke its replacement, during its grace period.
 */
function ensureManagesKeys(actor: Actor, operatorId: number): void {
  ensureOperatorSelf(actor, operatorId);
  if (actor.kind === 'operator' && actor.retiring) {
    throw new DomainError('FORBIDDEN', 'A key being replaced cannot manage keys; use its replacement');
  }
}

async function insertKey({ db }: Deps, operatorId: number, label: string): Promise<IssuedKey> {
  const secret = randomBytes(32).toString('base64url');
  const row = await operatorsRepository.insertKey(db, { operatorId, label, secretHash: digest(secret) });
  return { ...row, key: `cop_${row.id}_${secret}` };
}

/** A new key for the operator, shown once: only its digest is kept. */
export async function issueApiKey(deps: Deps, actor: Actor, operatorId: number, label: string): Promise<IssuedKey> {
  ensureManagesKeys(actor, operatorId);
  return asActor(deps, actor, async (scoped) => {
    foundOr(await operatorsRepository.get(scoped.db, operatorId), 'OPERATOR_NOT_FOUND', 'Operator', operatorId);
    return insertKey(scoped, operatorId, label);
  });
}

export async function listApiKeys(deps: Deps, actor: Actor, operatorId: number, page: PageRequest) {
  ensureOperatorSelf(actor, operatorId);
  foundOr(await operatorsRepository.get(deps.db, operatorId), 'OPERATOR_NOT_FOUND', 'Operator', operatorId);
  return paginate(page, (keyset) => operatorsRepository.keys(deps.db, operatorId, keyset));
}

/** Refused from the next request on, on every instance (authentication reads the key's row each time). */
export async function revokeApiKey(deps: Deps, actor: Actor, operatorId: number, keyId: number): Promise<ApiKeyRow> {
  ensureManagesKeys(actor, operatorId);
  return asActor(deps, actor, async ({ db }) => {
    if (!(await operatorsRepository.lockKey(db, operatorId, keyId))) throw keyNotFound(keyId);
    return operatorsRepository.revokeKey(db, keyId, 0);
  });
}

/**
 * A new key replacing an old one: the old key keeps working for `graceSeconds` (0: it stops at
 * once), long enough to deploy the new one. A revoked key cannot be rotated.
 */
export async function rotateApiKey(
  deps: Deps,
  actor: Actor,
  operatorId: number,
  keyId: number,
  graceSeconds: number,
): Promise<IssuedKey & { replaces: ApiKeyRow }> {
  ensureManagesKeys(actor, operatorId);
  return asActor(deps, actor, async (scoped) => {
    const old = await operatorsRepository.lockKey(scoped.db, operatorId, keyId);
    if (!old) throw keyNotFound(keyId);
    if (old.revokedAt) {
      throw new DomainError(
        'API_KEY_ALREADY_REVOKED',
        `API key ${keyId} is revoked or being replaced; issue a new one`,
      );
    }
    const issued = await insertKey(scoped, operatorId, old.label);
    const replaces = await operatorsRepository.revokeKey(scoped.db, keyId, graceSeconds, issued.id);
    return { ...issued, replaces };
  });
}

/**
 * Who a bearer token stands for: the admin token, or (where `operators` allow it) an operator's
 * key that is not revoked. A token that is neither is refused (FORBIDDEN), or with `ignoreOthers`
 * stands for nobody (undefined): a public read is not spoilt by a token meant for something else
 * (an order's). A revoked key is told so (API_KEY_REVOKED). The comparisons take the same time
 * whatever the token.
 */
export async function authenticate(
  deps: Deps,
  token: string,
  { operators, ignoreOthers = false }: { operators: boolean; ignoreOthers?: boolean },
): Promise<Actor | undefined> {
  if (timingSafeEqual(digest(token), digest(deps.config.ADMIN_TOKEN))) return { kind: 'admin' };
  const parts = operators ? KEY_FORMAT.exec(token) : null;
  if (!parts) {
    if (ignoreOthers) return undefined;
    throw forbidden();
  }
  const keyId = Number(parts[1]);
  const key = await operatorsRepository.credentials(deps.db, keyId);
  if (!key || !timingSafeEqual(digest(parts[2]!), key.secretHash)) throw forbidden();
  if (key.revoked) throw new DomainError('API_KEY_REVOKED', 'This API key is revoked');
  if (key.stale) await operatorsRepository.touchKey(deps.db, keyId);
  return { kind: 'operator', operatorId: key.operatorId, keyId, retiring: key.retiring };
}
