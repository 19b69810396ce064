import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { log } from './system.js';

/**
 * --observability on|off|both: the services measured with their access logs, their log lines at info
 * and their metrics (scraped as Prometheus would), as in service; or without any of it; or both, one
 * after the other, to see what it costs.
 */
export type Observability = 'on' | 'off';

export function observabilityModes(option: string): Observability[] {
  if (option === 'both') return ['on', 'off'];
  if (option === 'on' || option === 'off') return [option];
  throw new Error(`--observability ${option}: on, off or both`);
}

/** What a service started in this mode is given (startRole's env). */
export function observabilitySettings(mode: Observability): Record<string, string> {
  return mode === 'on'
    ? { ACCESS_LOG: 'true', METRICS: 'true', LOG_LEVEL: 'info' }
    : { ACCESS_LOG: 'false', METRICS: 'false', LOG_LEVEL: 'warn' };
}

/**
 * Where a service started in this mode logs (startRole's logFile): with observability on, a file per
 * service, so writing every line is part of what is measured, as a container's stdout is read by
 * its runtime; off, the terminal (warnings only).
 */
export function logFileOf(mode: Observability, name: string): string | undefined {
  if (mode === 'off') return undefined;
  const directory = `${tmpdir()}/cinema-bench-logs`;
  mkdirSync(directory, { recursive: true });
  const file = `${directory}/${name}.log`;
  log(`${name} logs to ${file}`);
  return file;
}

/** Every SCRAPE_INTERVAL_MS, GET /metrics of each port, as a Prometheus server would; returns the stop. */
const SCRAPE_INTERVAL_MS = 15_000;

export function scrapeMetrics(mode: Observability, ports: number[]): () => void {
  if (mode === 'off') return () => {};
  const timer = setInterval(() => {
    for (const port of ports) {
      fetch(`http://127.0.0.1:${port}/metrics`)
        .then((response) => response.text())
        .catch((error: unknown) => log(`scrape of :${port} failed: ${(error as Error).message}`));
    }
  }, SCRAPE_INTERVAL_MS);
  return () => clearInterval(timer);
}
