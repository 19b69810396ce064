import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Deps } from '../../domain/context.js';
import { DomainError } from '../../domain/errors.js';
import { authenticate } from '../../domain/operators/api-keys.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The token of an `Authorization: Bearer <token>` header. */
export const bearerToken = (header: string | undefined) => header?.match(/^Bearer\s+(\S+)$/i)?.[1];

/**
 * Routes behind a shared secret (the payment service key, the admin token of the queue dashboard)
 * need `Authorization: Bearer <secret>`: 401 without it, 403 when wrong.
 */
export function requireBearer(secret: string, name: string): RequestHandler {
  const expected = digest(secret);
  return (req, _res, next) => {
    const header = req.get('authorization');
    const token = bearerToken(header);
    if (!token) throw new DomainError('UNAUTHORIZED', `Send Authorization: Bearer <${name}>`);
    if (!timingSafeEqual(digest(token), expected)) throw new DomainError('FORBIDDEN', 'The token does not allow this');
    next();
  };
}

/**
 * Routes that manage the catalog name their actor (domain/operators/api-keys.ts `authenticate`):
 * the admin token, or an operator's API key where `operators` allow one. 401 without a token, 403
 * with a wrong one, 401 API_KEY_REVOKED with a revoked key. `optional` (an operator-scoped public
 * read): a request without a token, or with one that is neither the admin's nor shaped like an
 * operator's key, passes as nobody. The actor, with the request it made (for the audit log), goes
 * to res.locals.actor.
 */
export function requireActor(deps: Deps, { operators, optional }: { operators: boolean; optional: boolean }) {
  const handler: RequestHandler = async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token && optional) return next();
    if (!token) {
      throw new DomainError(
        'UNAUTHORIZED',
        `Send Authorization: Bearer <${operators ? 'admin token or API key' : 'admin token'}>`,
      );
    }
    const actor = await authenticate(deps, token, { operators, ignoreOthers: optional });
    if (actor) res.locals.actor = { ...actor, request: `${req.method} ${req.baseUrl}${req.path}` };
    next();
  };
  return handler;
}

/**
 * For pages a person opens in a browser (the queue dashboard), which cannot send a Bearer token: a
 * request without credentials is asked to log in (WWW-Authenticate: Basic), and Basic credentials
 * whose password is the token count as that token (the user name is ignored); the browser then
 * sends them with every request of the page. Put it in front of requireBearer.
 */
export function browserLogin(realm: string): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    const basic = header?.match(/^Basic\s+(\S+)$/i)?.[1];
    if (basic) {
      const credentials = Buffer.from(basic, 'base64').toString('utf8');
      req.headers.authorization = `Bearer ${credentials.slice(credentials.indexOf(':') + 1)}`;
    } else if (!header) res.setHeader('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    next();
  };
}
