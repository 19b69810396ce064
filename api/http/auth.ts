import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { DomainError } from '../../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Writes to the catalog need `Authorization: Bearer <ADMIN_TOKEN>`: 401 without it, 403 when wrong. */
export function requireAdmin(adminToken: string): RequestHandler {
  const expected = digest(adminToken);
  return (req, _res, next) => {
    const header = req.get('authorization');
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new DomainError('UNAUTHORIZED', 'Send Authorization: Bearer <admin token>');
    if (!timingSafeEqual(digest(token), expected)) throw new DomainError('FORBIDDEN', 'The token does not allow this');
    next();
  };
}
