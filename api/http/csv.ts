import { stringify } from 'csv-stringify/sync';
import Negotiator from 'negotiator';
import { Reply } from './route.js';

/** Whether the client prefers CSV to JSON, by its Accept header's order and q-values (none: JSON). */
export const wantsCsv = (accept: string | undefined) =>
  accept !== undefined &&
  new Negotiator({ headers: { accept } }).mediaType(['application/json', 'text/csv']) === 'text/csv';

/**
 * A text a spreadsheet would run as a formula (=, +, -, @, a tab or a return first), quoted as text:
 * names come from operators (OWASP's CSV injection).
 */
const asText = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/** A table as RFC 4180 CSV with a header row, in these columns; what a spreadsheet opens. */
export function csvReply(rows: Record<string, unknown>[], columns: string[], filename: string): Reply {
  return new Reply(200, stringify(rows, { header: true, columns, cast: { boolean: String, string: asText } }), {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename}.csv"`,
  });
}
