import { z } from 'zod';

/** Ids are bigint in PostgreSQL; capping at 2^53-1 keeps them exact in JSON and can never overflow a query. */
export const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** PostgreSQL refuses NUL in text; refusing it here keeps such input a 400 and not a 500. */
export const text = (min: number, max: number) =>
  z.string().trim().min(min).max(max).refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

export const idParams = z.strictObject({ id });

export const timestamp = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

export const date = z.iso.date();

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
