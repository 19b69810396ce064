import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNginx } from '../scripts/topology/checks.js';
import { testEnvironment } from './system.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT_DIRS = ['api', 'workers', 'realtime', 'db', 'domain', 'infra', 'host', 'simulators', 'scripts'];

/** Sources whose dist/ output is missing or older: the topology runs dist/, as production does. */
function staleSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return staleSources(path);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name.endsWith('.d.ts')) return [];
    const built = join(ROOT, 'dist', relative(ROOT, path)).replace(/\.ts$/, '.js');
    return existsSync(built) && statSync(built).mtimeMs >= statSync(path).mtimeMs ? [] : [path];
  });
}

/** Builds dist/ when a source is newer: the topology runs dist/, as production does. */
export function ensureBuilt(): void {
  if (BUILT_DIRS.flatMap((dir) => staleSources(join(ROOT, dir))).length === 0) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}

/** Whether the topology can run here; a test without nginx says why and skips. */
export function nginxOrSkip(context: Mocha.Context): void {
  if (findNginx()) return;
  console.log('    skipped: nginx is not installed (apt-get install -y nginx; .ci/run installs it)');
  context.skip();
}

/** The test run's database and Redis prefix for a topology, which generates its own production secrets. */
export async function topologyEnvironment(): Promise<NodeJS.ProcessEnv> {
  const env = await testEnvironment({ CONFIRM_WITHOUT_PAYMENT: 'false', LOG_LEVEL: 'info' });
  for (const name of ['ADMIN_TOKEN', 'ORDER_TOKEN_SECRET', 'PAYMENT_SERVICE_KEY', 'PAYMENT_SERVICE_URL', 'PORT']) {
    delete env[name];
  }
  return env;
}
