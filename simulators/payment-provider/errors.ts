import { HttpError } from '../../api/http/errors.js';

/** The simulated processor's own error codes and statuses: its API contract, apart from the booking system's. */
export const PROVIDER_ERRORS = {
  IDEMPOTENCY_KEY_REQUIRED: 400,
  CARD_DECLINED: 402,
  CHARGE_NOT_FOUND: 404,
  CHARGE_NOT_REFUNDABLE: 409,
  REFUND_EXCEEDS_CHARGE: 409,
  REQUEST_IN_PROGRESS: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PROVIDER_UNAVAILABLE: 503,
} as const;

export type ProviderErrorCode = keyof typeof PROVIDER_ERRORS;

export const providerError = (code: ProviderErrorCode, message: string, details?: unknown) =>
  new HttpError(PROVIDER_ERRORS[code], code, message, details);

/** For a route's documentation: the codes it may answer with, and their statuses. */
export const documented = (...codes: ProviderErrorCode[]) =>
  codes.map((code) => ({ code, status: PROVIDER_ERRORS[code] }));
