import { z } from 'zod';

/**
 * An id in a path or query string: plain decimal digits only (no 0x1, 1e1, +1), and at most
 * 2^53-1, which keeps it exact in JSON and can never overflow PostgreSQL's bigint.
 */
export const id = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive whole number')
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER));

/**
 * PostgreSQL refuses NUL in text; refusing it here keeps such input a 400 and not a 500. A lone
 * surrogate has no UTF-8 form: it would be stored as U+FFFD, unlike what was sent (and break matching).
 */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => !/\p{Cs}/u.test(value), 'must be valid Unicode (no lone surrogates)');

/** An id inside a JSON body is a JSON number: `true`, `"5"` or `[5]` are refused, not read as ids. */
export const refId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const idParams = z.strictObject({ id });

/** Years 1970-9000: every derived time (a showing's end) still has a four-digit ISO year. */
export const timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine(
    (value) => value.getUTCFullYear() >= 1970 && value.getUTCFullYear() <= 9000,
    'must be between the years 1970 and 9000',
  );

/** PostgreSQL has no year 0 (1 BC precedes 1 AD): refusing it here keeps such input a 400 and not a 500. */
export const date = z.iso.date().refine((value) => !value.startsWith('0000-'), 'must be in the year 0001 or later');

export const MAX_PAGE_SIZE = 200;
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().max(200).optional(),
};

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null on the last page'),
  });
}

/** At least one field: a PATCH that changes nothing is a client mistake. */
export function patchOf<T extends z.ZodRawShape>(shape: T) {
  return z
    .strictObject(shape)
    .partial()
    .refine((value) => Object.values(value).some((field) => field !== undefined), 'give at least one field to change');
}

export const isoTimestamp = z.iso.datetime({ offset: true });

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** A conditional GET: an answer whose ETag the client names is 304 Not Modified, with no body. */
export const conditional = z.object({
  'if-none-match': z.string().max(1000).optional().describe('An ETag of an earlier answer: 304 if it is still current'),
});
