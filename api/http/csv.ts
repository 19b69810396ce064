import { stringify } from 'csv-stringify/sync';
import Negotiator from 'negotiator';
import type { CsvTable } from './route.js';

/** Whether the client prefers CSV to JSON, by its Accept header's order and q-values (none: JSON). */
export const wantsCsv = (accept: string | undefined) =>
  accept !== undefined &&
  new Negotiator({ headers: { accept } }).mediaType(['application/json', 'text/csv']) === 'text/csv';

/**
 * A text a spreadsheet would run as a formula (=, +, -, @, a tab or a return first), quoted as text:
 * names come from operators (OWASP's CSV injection).
 */
const asText = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/** A table as RFC 4180 CSV with a header row, in its columns, and the headers that name it a download. */
export function csvOf({ rows, columns, filename }: CsvTable): { headers: Record<string, string>; bytes: Buffer } {
  return {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}.csv"`,
    },
    bytes: Buffer.from(stringify(rows, { header: true, columns, cast: { boolean: String, string: asText } })),
  };
}
