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
