import { fuzz, type FuzzOptions, type FuzzReport } from '../../scripts/fuzz/runner.js';
import { ADMIN_TOKEN, startTestWorkers, testSystem } from '../system.js';

/**
 * The OpenAPI fuzz against the in-process test system: reads GET /api/v1/openapi.json, creates its
 * fixtures through the API, generates `cases` cases from the document with `seed`
 * (scripts/fuzz/cases.ts) and sends them, 16 at a time. The allocation workers run meanwhile, so that
 * orders are decided (a `Prefer: wait` answers at once, and paying or cancelling meets a decided order).
 * The generator lives under scripts/fuzz/ because the long run (scripts/fuzz.ts, from dist/) uses it too.
 */
export async function fuzzTestSystem(options: Omit<FuzzOptions, 'baseUrl' | 'credentials'>): Promise<FuzzReport> {
  const { baseUrl, config } = await testSystem();
  const stopWorkers = await startTestWorkers();
  try {
    return await fuzz({
      baseUrl,
      credentials: { adminToken: ADMIN_TOKEN, paymentServiceKey: config.PAYMENT_SERVICE_KEY },
      ...options,
    });
  } finally {
    await stopWorkers();
  }
}

/** The seed of this run: FUZZ_SEED when set (to replay a run), else a new one, always printed. */
export const fuzzSeed = (): number =>
  process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
