import { randomBytes } from 'node:crypto';
import { SECRETS } from '../../domain/config.js';

/** The roles of the topology, in the order their ports are given out. */
export const TOPOLOGY_ROLES = ['tickets', 'catalog', 'realtime', 'workers', 'payments'] as const;
export type TopologyRole = (typeof TOPOLOGY_ROLES)[number];
export type Counts = Record<TopologyRole, number>;

/** The deployment contract's default: tickets clearly more than the rest. */
export const DEFAULT_COUNTS: Counts = { tickets: 4, catalog: 2, realtime: 2, workers: 2, payments: 1 };
export const MAX_INSTANCES_PER_ROLE = 32;

export type PlannedInstance = { role: TopologyRole; index: number; name: string; port: number };

/** Problems with the counts, or none; `payments: 0` needs a payment service of the environment's. */
export function countProblems(counts: Counts, env: NodeJS.ProcessEnv): string[] {
  return TOPOLOGY_ROLES.flatMap((role) => {
    const count = counts[role];
    const least = role === 'payments' ? 0 : 1;
    if (!Number.isInteger(count) || count < least || count > MAX_INSTANCES_PER_ROLE) {
      return [`${role}: ${count} instances; give a whole number from ${least} to ${MAX_INSTANCES_PER_ROLE}`];
    }
    if (role === 'payments' && count === 0 && !env.PAYMENT_SERVICE_URL) {
      return ['payments: 0 instances needs PAYMENT_SERVICE_URL (the payment service the workers call instead)'];
    }
    return [];
  });
}

export const instanceCount = (counts: Counts) => TOPOLOGY_ROLES.reduce((sum, role) => sum + counts[role], 0);

/** Gives each instance the next port, role by role: tickets-1 gets the first. */
export function planInstances(counts: Counts, ports: number[]): PlannedInstance[] {
  const planned: PlannedInstance[] = [];
  for (const role of TOPOLOGY_ROLES) {
    for (let index = 1; index <= counts[role]; index += 1) {
      const port = ports[planned.length];
      if (port === undefined) throw new Error('fewer ports than instances');
      planned.push({ role, index, name: `${role}-${index}`, port });
    }
  }
  return planned;
}

export type Secrets = { values: Record<(typeof SECRETS)[number], string>; generated: string[] };

/** The environment's secrets; those it lacks are generated for this run (hex: no placeholder word can appear). */
export function resolveSecrets(env: NodeJS.ProcessEnv): Secrets {
  const generated: string[] = [];
  const values = Object.fromEntries(
    SECRETS.map((name) => {
      const given = env[name];
      if (given) return [name, given];
      generated.push(name);
      return [name, randomBytes(32).toString('hex')];
    }),
  ) as Secrets['values'];
  return { values, generated };
}

/** What every instance is told, apart from its role and port. */
export function sharedEnv(secrets: Secrets, paymentServiceUrl: string): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    // The topology runs the one-shot migration before any instance starts.
    MIGRATE_ON_START: 'false',
    PAYMENT_SERVICE_URL: paymentServiceUrl,
    PAYMENT_SIMULATOR_ALLOWED: 'true',
    TRUST_PROXY: 'loopback',
    ...secrets.values,
  };
}

export function instanceEnv(
  base: NodeJS.ProcessEnv,
  shared: NodeJS.ProcessEnv,
  instance: PlannedInstance,
  seed: boolean,
): NodeJS.ProcessEnv {
  return {
    ...base,
    ...shared,
    ROLES: instance.role,
    PORT: String(instance.port),
    HOST: '127.0.0.1',
    // One seeder: eleven instances seeding an empty database at once would each add the demo set.
    SEED_WHEN_EMPTY: seed && instance.role === 'catalog' && instance.index === 1 ? 'true' : 'false',
  };
}
