import { parseArgs } from 'node:util';
import {
  DEFAULT_COUNTS,
  startTopology,
  TOPOLOGY_ROLES,
  TopologyError,
  type Counts,
  type Topology,
} from './topology/topology.js';

// npm run topology -- --tickets 4 --catalog 2 --realtime 2 --workers 2 --payments 1 [--port 8080] [--base-port 4100]
// The production topology on one machine, without Docker: nginx in front of every role's instances
// (docs/topology.md). The work is in scripts/topology/topology.ts, which tests start in-process.
const USAGE = `Usage: npm run topology -- [options]

  --tickets N --catalog N --realtime N --workers N --payments N
                        instances per role (default ${TOPOLOGY_ROLES.map((role) => `${role} ${DEFAULT_COUNTS[role]}`).join(', ')})
  --port P              nginx's public port (8080; 0 picks a free one)
  --host H              nginx's public address (127.0.0.1)
  --base-port P         the first instance's port, the others follow (4100; 0 picks free ones)
  --env-file F          KEY=VALUE lines for the instances (the environment wins over the file)
  --run-dir D           where the nginx config, logs and state go (a new temp directory)
  --seed                seed the demo data when the database has no catalog
  --verbose             echo every instance's output, prefixed with its name
  --nginx PATH          the nginx binary (found on PATH or in /usr/sbin)
  --nginx-workers N     nginx worker_processes: a number or auto (1)
  --ready-timeout S     seconds to wait for every instance's /readyz (60)
`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      ...Object.fromEntries(TOPOLOGY_ROLES.map((role) => [role, { type: 'string' as const }])),
      port: { type: 'string' },
      host: { type: 'string' },
      'base-port': { type: 'string' },
      'env-file': { type: 'string' },
      'run-dir': { type: 'string' },
      seed: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      nginx: { type: 'string' },
      'nginx-workers': { type: 'string' },
      'ready-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const option = values as Record<string, string | boolean | undefined>;
function whole(name: string, least: number, most: number): number | undefined {
  const given = option[name];
  if (given === undefined) return undefined;
  const value = Number(given);
  if (!Number.isInteger(value) || value < least || value > most)
    fail(`--${name} ${given}: give a whole number from ${least} to ${most}`);
  return value;
}

const counts = Object.fromEntries(
  TOPOLOGY_ROLES.map((role) => [role, whole(role, 0, 1_000) ?? DEFAULT_COUNTS[role]]),
) as Counts;
const nginxWorkers = values['nginx-workers'] === 'auto' ? 'auto' : whole('nginx-workers', 1, 64);
const readyTimeout = whole('ready-timeout', 1, 3_600);

const log = (line: string) => console.log(line);
const starting = new AbortController();
let topology: Topology | undefined;
let stopping = false;

async function stopAndExit(code: number): Promise<never> {
  if (topology) {
    try {
      await topology.stop();
    } catch (error) {
      console.error(`stopping failed: ${(error as Error).stack}`);
      code = 1;
    }
  }
  process.exit(code);
}

const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) {
    // A second Ctrl-C: no more waiting; the exit hook kills every process group the topology started.
    console.error(`${signal} again: killing everything`);
    process.exit(1);
  }
  stopping = true;
  console.log(`\n${signal}: stopping (${signal === 'SIGINT' ? 'Ctrl-C again' : 'SIGKILL'} to force)`);
  if (topology) void stopAndExit(0);
  else starting.abort(new Error(signal));
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

try {
  topology = await startTopology({
    counts,
    port: whole('port', 0, 65_535),
    host: values.host,
    basePort: whole('base-port', 0, 65_535),
    envFile: values['env-file'],
    runDir: values['run-dir'],
    seed: values.seed,
    verbose: values.verbose,
    nginx: values.nginx,
    nginxWorkers,
    readyTimeoutMs: readyTimeout === undefined ? undefined : readyTimeout * 1000,
    log,
    signal: starting.signal,
    onUnexpectedExit(event) {
      if (event.role === 'nginx') {
        console.error(`nginx (pid ${event.pid}) exited unexpectedly; the entry is gone: stopping everything`);
        if (!stopping) {
          stopping = true;
          void stopAndExit(1);
        }
        return;
      }
      const how = event.signal ? `signal ${event.signal}` : `code ${event.code}`;
      console.error(
        `! ${event.name} (pid ${event.pid}, port ${event.port}) exited unexpectedly (${how}); ` +
          `nginx sends its traffic to the other ${event.role} instances. Its log: ${event.logFile}`,
      );
    },
  });
} catch (error) {
  if (error instanceof TopologyError) {
    console.error(`topology: ${error.message}`);
    process.exit(stopping ? 0 : 1);
  }
  throw error;
}
if (stopping) await stopAndExit(0);
printSummary(topology);

function printSummary(running: Topology): void {
  const column = (name: string) => name.padEnd(10);
  const lines = [
    '',
    `${column('entry')}${running.entryUrl}   (API ${running.entryUrl}/api/v1, docs ${running.entryUrl}/docs, Socket.IO /socket.io/)`,
  ];
  for (const role of TOPOLOGY_ROLES) {
    const instances = running.instances.filter((instance) => instance.role === role);
    if (instances.length === 0) continue;
    const ports = instances.map((instance) => `127.0.0.1:${instance.port}`).join(' ');
    lines.push(`${column(role)}×${instances.length}  ${ports}`);
  }
  lines.push(`${column('payment')}the workers call ${running.paymentServiceUrl} (not on the entry)`);
  lines.push(`${column('probes')}/healthz, /readyz, /metrics on each instance's own port (not on the entry)`);
  if (running.generatedSecrets.length > 0) {
    lines.push(`${column('secrets')}generated for this run: ${running.generatedSecrets.join(', ')}`);
  }
  if (running.adminTokenFile) {
    lines.push(
      `${column('admin')}token in ${running.adminTokenFile} (mode 0600): ` +
        `curl -H "Authorization: Bearer $(cat ${running.adminTokenFile})" ...`,
    );
  }
  lines.push(
    `${column('logs')}${running.logDir}/<instance>.log (e.g. tickets-1.log), nginx-access.log (JSON lines), nginx-error.log`,
  );
  lines.push(`${column('state')}${running.runDir}/topology.json (ports, pids), nginx config ${running.nginx.config}`);
  lines.push(`${column('stop')}Ctrl-C, or kill -TERM ${process.pid}`);
  console.log(lines.join('\n'));
}
