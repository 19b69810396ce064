import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { DomainError } from '../../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Routes behind a shared secret (the admin token, the payment service key) need
 * `Authorization: Bearer <secret>`: 401 without it, 403 when wrong.
 */
/** The token of an `Authorization: Bearer <token>` header. */
export const bearerToken = (header: string | undefined) => header?.match(/^Bearer\s+(\S+)$/i)?.[1];

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
