import { pino } from 'pino';
import type { Logger } from '../domain/ports.js';

/**
 * pino, as the domain's Logger: JSON lines with the process id and whatever the caller binds, on
 * stdout unless given another destination (tests capture lines that way). Stdout is written
 * asynchronously: lines that come while a write is under way go out together with the next one, off
 * the event loop (one write per line cost 5-8 % of the reads' throughput in a saturated process:
 * docs/operations.md); pino flushes what is left when the process exits.
 */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    { level, base: { pid: process.pid, ...bindings } },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
