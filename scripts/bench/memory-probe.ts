import { writeFileSync } from 'node:fs';

/**
 * Preloaded (--import) into a service process by a benchmark run with --expose-gc: on SIGUSR2 it
 * collects garbage and writes the heap in use and the RSS to MEMORY_PROBE_DIR, so a figure per
 * connection is not blurred by garbage not yet collected.
 */
const directory = process.env.MEMORY_PROBE_DIR;
if (directory) {
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    writeFileSync(`${directory}/memory-${Date.now()}.json`, JSON.stringify({ heapUsed, rss }));
  });
}
