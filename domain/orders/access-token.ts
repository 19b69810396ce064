import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The order's access token is an HMAC of its id: nothing to store, the same token comes back on an
 * idempotent replay, and any instance can check it.
 */
export function accessTokenFor(orderId: string, secret: string): string {
  return createHmac('sha256', secret).update(orderId).digest('base64url');
}

export function isAccessTokenValid(orderId: string, token: string | undefined, secret: string): boolean {
  if (!token) return false;
  const expected = Buffer.from(accessTokenFor(orderId, secret));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
