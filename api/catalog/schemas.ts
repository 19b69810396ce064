import { z } from 'zod';
import { SEAT_CATEGORIES } from '../../domain/model/layout.js';
import { date, id, isoTimestamp, pageQuery, refId, text, timestamp } from '../http/schemas.js';

/**
 * Any name the time zone database knows, aliases included: Intl.supportedValuesOf lists only ICU's
 * canonical spellings, which leaves out current IANA names such as Asia/Kolkata or Europe/Kyiv.
 */
function isZoneName(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** IANA names only: PostgreSQL reads bare offsets like "+03:00" with the opposite sign. */
export const timezone = z
  .string()
  .refine(isZoneName, 'must be an IANA time zone name such as Europe/Moscow')
  .describe('IANA time zone; "the schedule for a date" means that date in this zone');

export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as RUB');

export const seatCategory = z.enum(SEAT_CATEGORIES);

export const prices = z
  .partialRecord(seatCategory, z.number().int().min(0).max(100_000_000))
  .describe('Price per seat category in minor units (kopecks, cents)');

const timestamps = { createdAt: isoTimestamp, updatedAt: isoTimestamp };

// Cities

export const cityFields = { name: text(1, 120) };
export const city = z.object({ id: z.number(), ...cityFields, ...timestamps });

// Cinemas

export const cinemaFields = {
  cityId: refId,
  name: text(1, 200),
  address: text(1, 500).nullable().optional(),
  timezone,
  currency: currency.optional().describe('Defaults to RUB'),
  defaultPrices: prices.optional().describe('Merged over the built-in defaults per category'),
  operatorId: refId
    .nullable()
    .optional()
    .describe("The operator owning the cinema (admin only; an operator's cinemas are its own); null: the platform's"),
};
export const cinema = z.object({
  id: z.number(),
  cityId: z.number(),
  name: z.string(),
  address: z.string().nullable(),
  timezone: z.string(),
  currency: z.string(),
  defaultPrices: z.record(z.string(), z.number()),
  operatorId: z.number().nullable(),
  ...timestamps,
});

// Halls and their layout

export const layout = z
  .strictObject({
    rows: z
      .array(
        z.strictObject({
          label: text(1, 8),
          y: z.number().int().min(0).max(10_000).optional().describe('Drawing position; defaults to the row index'),
          seats: z
            .array(
              z.strictObject({
                number: z.number().int().min(1).max(10_000),
                x: z
                  .number()
                  .int()
                  .min(0)
                  .max(10_000)
                  .optional()
                  .describe(
                    'Position in the row; defaults to right after the previous seat, so give x only after an aisle',
                  ),
                category: seatCategory.optional().describe('Defaults to standard; a double seat is two positions wide'),
              }),
            )
            .min(1)
            .max(500),
        }),
      )
      .min(1)
      .max(200),
  })
  .describe('Rows of seats; a jump in x between neighbouring seats is an aisle');

export const seatingRules = z
  .strictObject({
    focalDepth: z
      .number()
      .min(0)
      .max(1)
      .describe('Where the best view is, from the front row (0) to the back row (1); default 0.6'),
    rowWeight: z
      .number()
      .min(0)
      .max(100)
      .describe('How much one row of distance from the focal row weighs against one seat position sideways; default 1'),
    refuseOrphans: z
      .boolean()
      .describe('Refuse orders for named seats that would leave one seat alone between taken seats (ORPHAN_SEAT)'),
  })
  .describe('How "best available" scores seats in this hall, and whether stranding a single seat is refused');

export const hallFields = {
  cinemaId: refId,
  name: text(1, 120),
  layout,
  seating: seatingRules.partial().optional().describe('Changes only the settings given; the others keep their values'),
};
export const hall = z.object({
  id: z.number(),
  cinemaId: z.number(),
  name: z.string(),
  seatCount: z.number(),
  seating: z.object({ focalDepth: z.number(), rowWeight: z.number(), refuseOrphans: z.boolean() }),
  ...timestamps,
});
export const hallWithLayout = hall.extend({
  layout: z.object({
    rows: z.array(
      z.object({
        id: z.number(),
        label: z.string(),
        y: z.number(),
        seats: z.array(
          z.object({ id: z.number(), number: z.number(), x: z.number(), width: z.number(), category: seatCategory }),
        ),
      }),
    ),
  }),
});

// Films

export const filmFields = {
  title: text(1, 300),
  durationMinutes: z.number().int().min(1).max(600),
  description: text(0, 5000).nullable().optional(),
  ageRating: text(1, 10).nullable().optional(),
};
export const film = z.object({
  id: z.number(),
  title: z.string(),
  durationMinutes: z.number(),
  description: z.string().nullable(),
  ageRating: z.string().nullable(),
  ...timestamps,
});

// Showings

export const showingFields = {
  hallId: refId,
  filmId: refId,
  startsAt: timestamp.describe('ISO 8601 with an offset; the end follows from the film duration'),
  prices: prices.optional().describe("Defaults to the cinema's prices for each seat category of the hall"),
};
export const showingFilters = {
  ...pageQuery,
  cityId: id.optional(),
  cinemaId: id.optional(),
  hallId: id.optional(),
  filmId: id.optional(),
  date: date.optional().describe("A calendar day in each cinema's own time zone"),
  from: timestamp.optional().describe('Showings starting at or after this instant'),
  to: timestamp.optional().describe('Showings starting before this instant'),
};
export const showing = z.object({
  id: z.number(),
  hallId: z.number(),
  cinemaId: z.number(),
  cityId: z.number(),
  filmId: z.number(),
  startsAt: isoTimestamp,
  endsAt: isoTimestamp,
  timezone: z.string(),
  prices: z.record(z.string(), z.number()),
  currency: z.string(),
  status: z.enum(['scheduled', 'cancelled']),
  cancelledAt: isoTimestamp.nullable(),
  seatCount: z.number(),
  freeSeats: z.number(),
  ...timestamps,
});

// Schedule

export const scheduleQuery = z.strictObject({
  cityId: id,
  date: date.describe("A calendar day in each cinema's own time zone"),
  filmId: id.optional(),
});
export const schedule = z.object({
  cityId: z.number(),
  cityName: z.string(),
  date: z.string(),
  cinemas: z.array(
    z.object({
      cinemaId: z.number(),
      name: z.string(),
      address: z.string().nullable(),
      timezone: z.string(),
      films: z.array(
        z.object({
          filmId: z.number(),
          title: z.string(),
          durationMinutes: z.number(),
          ageRating: z.string().nullable(),
          showings: z.array(
            z.object({
              showingId: z.number(),
              startsAt: isoTimestamp,
              endsAt: isoTimestamp,
              localStartTime: z.string().describe('HH:MM in the cinema time zone'),
              hallId: z.number(),
              hallName: z.string(),
              prices: z.record(z.string(), z.number()),
              currency: z.string(),
              freeSeats: z.number(),
            }),
          ),
        }),
      ),
    }),
  ),
});
