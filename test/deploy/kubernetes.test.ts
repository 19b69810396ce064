import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { SECRETS } from '../../domain/config.js';
import { ConfigError, parseConfig, parseDataTaskConfig } from '../../host/config.js';
import { ROLES, STAND_IN_ROLES, type Role } from '../../host/roles.js';

/*
 * The Kubernetes manifests under deploy/k8s, checked without a cluster: each kustomization is rendered
 * here the way kustomize would (only the fields these kustomizations use; any other field fails the
 * render rather than being ignored), every object is validated against its Kubernetes schema, and the
 * objects are checked against each other and against the app's own configuration parser.
 */

const K8S = path.resolve(import.meta.dirname, '../../deploy/k8s');
const SIMULATOR = path.join(K8S, 'components/payment-simulator');
const EXAMPLE_SECRET = path.join(K8S, 'base/secret.example.yaml');
const HTTP_ROLES: readonly Role[] = ['catalog', 'tickets', 'realtime', 'payments'];

type Resource = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: any;
};

// ---- a small kustomize ---------------------------------------------------------------------------

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'configMapGenerator',
  'patches',
  'images',
  'replicas',
  'namespace',
]);
const GENERATOR_FIELDS = new Set(['name', 'envs', 'literals', 'behavior', 'options']);

function readDocuments(file: string): Resource[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const value = document.toJS() as Resource | null;
    return value === null ? [] : [value];
  });
}

const idOf = (resource: Resource) => `${resource.kind}/${resource.metadata.namespace ?? '~'}/${resource.metadata.name}`;

function add(into: Resource[], resources: Resource[]): void {
  for (const resource of resources) {
    if (into.some((known) => idOf(known) === idOf(resource))) throw new Error(`${idOf(resource)} is defined twice`);
    into.push(resource);
  }
}

type RenderOptions = { skipComponent?: (dir: string) => boolean };

/** `kustomize build dir`: resources, then generators, then components, then transformers (kustomize ≥ 5.1). */
function kustomize(dir: string, options: RenderOptions = {}): Resource[] {
  const resources: Resource[] = [];
  accumulate(dir, resources, 'Kustomization', options);
  return resources;
}

function accumulate(dir: string, resources: Resource[], kind: string, options: RenderOptions): void {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8'));
  if (kustomization.kind !== kind) throw new Error(`${file}: expected kind ${kind}, found ${kustomization.kind}`);
  for (const field of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) throw new Error(`${file}: this test's renderer does not know ${field}`);
  }
  for (const entry of kustomization.resources ?? []) {
    const target = path.resolve(dir, entry);
    add(resources, statSync(target).isDirectory() ? kustomize(target, options) : readDocuments(target));
  }
  for (const generator of kustomization.configMapGenerator ?? []) generateConfigMap(dir, generator, resources);
  for (const entry of kustomization.components ?? []) {
    const target = path.resolve(dir, entry);
    if (!options.skipComponent?.(target)) accumulate(target, resources, 'Component', options);
  }
  for (const patch of kustomization.patches ?? []) {
    if (Object.keys(patch).join() !== 'path') throw new Error(`${file}: only patches given by path are supported`);
    for (const document of readDocuments(path.resolve(dir, patch.path))) {
      const index = resources.findIndex((r) => r.kind === document.kind && r.metadata.name === document.metadata.name);
      if (index < 0) throw new Error(`${file}: patch ${patch.path} matches nothing`);
      resources[index] = strategicMerge(resources[index], document);
    }
  }
  for (const { name, count } of kustomization.replicas ?? []) {
    const targets = resources.filter((r) => r.kind === 'Deployment' && r.metadata.name === name);
    if (targets.length === 0) throw new Error(`${file}: replicas of ${name}, which is no Deployment`);
    for (const target of targets) target.spec.replicas = count;
  }
  for (const image of kustomization.images ?? []) {
    for (const container of resources.flatMap(containersOf)) {
      const { name, tag } = splitImage(container.image);
      if (name !== image.name) continue;
      container.image = `${image.newName ?? name}${image.digest ? `@${image.digest}` : `:${image.newTag ?? tag}`}`;
    }
  }
  if (kustomization.namespace) {
    for (const resource of resources) {
      if (resource.kind !== 'Namespace') resource.metadata.namespace = kustomization.namespace;
    }
  }
}

/**
 * configMapGenerator, without the content-hash suffix kustomize adds to the name (it rewrites every
 * reference to match, so references by the plain name are what to check).
 */
function generateConfigMap(dir: string, generator: any, resources: Resource[]): void {
  for (const field of Object.keys(generator)) {
    if (!GENERATOR_FIELDS.has(field)) throw new Error(`configMapGenerator ${generator.name}: unsupported ${field}`);
  }
  const lines = [
    ...(generator.envs ?? []).flatMap((file: string) =>
      readFileSync(path.resolve(dir, file), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#')),
    ),
    ...(generator.literals ?? []),
  ];
  const data = Object.fromEntries(
    lines.map((line: string) => {
      // kustomize reads a line without "=" from its own environment: never what a manifest means.
      const at = line.indexOf('=');
      if (at < 1) throw new Error(`configMapGenerator ${generator.name}: "${line}" is not KEY=value`);
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );
  const labels = generator.options?.labels;
  const existing = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name === generator.name);
  const behavior = generator.behavior ?? 'create';
  if (behavior === 'create') {
    if (existing) throw new Error(`ConfigMap ${generator.name} is generated twice`);
    const metadata = { name: generator.name, ...(labels && { labels }) };
    add(resources, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata, data }]);
    return;
  }
  if (!existing) throw new Error(`ConfigMap ${generator.name}: nothing to ${behavior}`);
  existing.data = behavior === 'merge' ? { ...existing.data, ...data } : data;
  if (labels) existing.metadata.labels = { ...existing.metadata.labels, ...labels };
}

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The part of a strategic merge patch the overlays use: maps merge, lists of named items merge by name. */
function strategicMerge(target: any, patch: any): any {
  if (isObject(target) && isObject(patch)) {
    const merged: Record<string, any> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = key in target ? strategicMerge(target[key], value) : value;
    }
    return merged;
  }
  const named = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item?.name === 'string');
  if (named(target) && named(patch)) {
    const merged = target.map((item: any) => {
      const change = patch.find((candidate: any) => candidate.name === item.name);
      return change ? strategicMerge(item, change) : item;
    });
    return [...merged, ...patch.filter((item: any) => !target.some((known: any) => known.name === item.name))];
  }
  return patch;
}

function splitImage(image: string): { name: string; tag: string | undefined } {
  const slash = image.lastIndexOf('/');
  const colon = image.indexOf(':', slash + 1);
  return colon < 0 ? { name: image, tag: undefined } : { name: image.slice(0, colon), tag: image.slice(colon + 1) };
}

// ---- reading the rendered objects -----------------------------------------------------------------

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

function validate(resource: Resource): void {
  const Model = MODELS[`${resource.apiVersion}/${resource.kind}`];
  if (!Model) throw new Error(`${idOf(resource)}: no schema known for ${resource.apiVersion} ${resource.kind}`);
  try {
    new Model(resource).validate();
  } catch (error) {
    throw new Error(`${idOf(resource)}: ${(error as Error).message}`, { cause: error });
  }
}

const podSpecOf = (resource: Resource): any => resource.spec?.template?.spec;
const podLabelsOf = (resource: Resource): Record<string, string> => resource.spec?.template?.metadata?.labels ?? {};
const containersOf = (resource: Resource): any[] => [
  ...(podSpecOf(resource)?.initContainers ?? []),
  ...(podSpecOf(resource)?.containers ?? []),
];
const ofKind = (resources: Resource[], kind: string) => resources.filter((resource) => resource.kind === kind);

/** A label selector given as matchLabels selects pods carrying every one of its labels. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

const envValue = (container: any, name: string): string | undefined =>
  container.env?.find((variable: any) => variable.name === name)?.value;

function roleOf(deployment: Resource): string | undefined {
  const [container] = podSpecOf(deployment).containers;
  return envValue(container, 'ROLES');
}

function deploymentOf(resources: Resource[], role: string): Resource {
  const found = ofKind(resources, 'Deployment').filter((deployment) => roleOf(deployment) === role);
  expect(found, `Deployments running ${role}`).to.have.length(1);
  return found[0]!;
}

function autoscalerOf(resources: Resource[], deployment: Resource): Resource | undefined {
  return ofKind(resources, 'HorizontalPodAutoscaler').find(
    ({ spec }) =>
      spec.scaleTargetRef.apiVersion === 'apps/v1' &&
      spec.scaleTargetRef.kind === 'Deployment' &&
      spec.scaleTargetRef.name === deployment.metadata.name,
  );
}

/** The fewest pods a Deployment runs: its autoscaler's floor when it has one. */
function replicasOf(resources: Resource[], deployment: Resource): number {
  const autoscaler = autoscalerOf(resources, deployment);
  return autoscaler ? (autoscaler.spec.minReplicas ?? 1) : (deployment.spec.replicas ?? 1);
}

function cores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

const BYTE_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };
function bytes(quantity: string | number): number {
  const [, amount, unit] = /^([\d.]+)([A-Za-z]*)$/.exec(String(quantity)) ?? [];
  const factor = unit === '' ? 1 : BYTE_UNITS[unit!];
  if (amount === undefined || factor === undefined) throw new Error(`unreadable memory quantity ${quantity}`);
  return Number(amount) * factor;
}

/** What a probe's port names: the container port it reaches. */
function probedPort(container: any, probe: any): number | undefined {
  const port = probe?.httpGet?.port;
  const named = container.ports?.find((candidate: any) => candidate.name === port || candidate.containerPort === port);
  return named?.containerPort;
}

/** The environment a container starts with: envFrom first, then env over it, as the kubelet does. */
function environmentOf(container: any, resources: Resource[], secret: Record<string, string>): Record<string, string> {
  const configMap = (name: string) => {
    const found = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name === name);
    if (!found) throw new Error(`ConfigMap ${name} is not rendered`);
    return found.data as Record<string, string>;
  };
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(environment, configMap(source.configMapRef.name));
    if (source.secretRef) Object.assign(environment, secret);
  }
  for (const variable of container.env ?? []) {
    const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
    if (secretKeyRef) environment[variable.name] = secret[secretKeyRef.key]!;
    else if (configMapKeyRef) environment[variable.name] = configMap(configMapKeyRef.name)[configMapKeyRef.key]!;
    else environment[variable.name] = variable.value;
  }
  return environment;
}

type Route = { ingress: Resource; service: { name: string; port: { name?: string; number?: number } } };

/** The backend a request path reaches: the longest matching path wins, Exact before Prefix (Ingress v1 rules). */
function route(resources: Resource[], requestPath: string): Route | undefined {
  const segments = (value: string) => value.split('?')[0]!.split('/').filter(Boolean);
  const wanted = segments(requestPath);
  const matches = ofKind(resources, 'Ingress').flatMap((ingress) =>
    ingress.spec.rules.flatMap((rule: any) =>
      rule.http.paths
        .filter((candidate: any) => {
          const own = segments(candidate.path);
          if (candidate.pathType === 'Exact') return requestPath.split('?')[0] === candidate.path;
          if (candidate.pathType !== 'Prefix') throw new Error(`${ingress.metadata.name}: ${candidate.pathType} paths`);
          return own.every((segment, index) => wanted[index] === segment);
        })
        .map((candidate: any) => ({ ingress, candidate })),
    ),
  );
  matches.sort(
    (a, b) =>
      b.candidate.path.length - a.candidate.path.length ||
      Number(b.candidate.pathType === 'Exact') - Number(a.candidate.pathType === 'Exact'),
  );
  const best = matches[0];
  return best && { ingress: best.ingress, service: best.candidate.backend.service };
}

const exampleSecret = (): Resource => {
  const [secret, ...rest] = readDocuments(EXAMPLE_SECRET);
  expect(rest).to.be.empty;
  return secret!;
};

/** The example secret's keys with values production accepts. */
function workingSecret(): Record<string, string> {
  const values: Record<string, string> = {
    DATABASE_URL: 'postgres://cinema:pw@db.internal:5432/cinema',
    REDIS_URL: 'rediss://default:pw@redis.internal:6380',
  };
  return Object.fromEntries(
    Object.keys(exampleSecret().stringData).map((key) => [
      key,
      values[key] ?? `${key.toLowerCase()}-${'k'.repeat(40)}`,
    ]),
  );
}

// ---- the checks --------------------------------------------------------------------------------------

type Rendering = { title: string; dir: string; options?: RenderOptions; roles: readonly Role[] };

const renderings: Rendering[] = [
  { title: 'the base', dir: path.join(K8S, 'base'), roles: ROLES },
  { title: 'the production overlay', dir: path.join(K8S, 'overlays/production'), roles: ROLES },
  {
    title: 'the base without the payment simulator',
    dir: path.join(K8S, 'base'),
    options: { skipComponent: (dir) => dir === SIMULATOR },
    roles: ROLES.filter((role) => !STAND_IN_ROLES.includes(role)),
  },
];

for (const { title, dir, options, roles } of renderings) {
  describe(`Kubernetes manifests: ${title}`, () => {
    let resources: Resource[];
    before(() => {
      resources = kustomize(dir, options);
    });

    it('when rendered, should give only objects that validate against their Kubernetes schema', () => {
      expect(resources).to.not.be.empty;
      for (const resource of resources) validate(resource);
    });

    it('when rendered, should run every role in a Deployment of its own, and nothing else', () => {
      const deployed = ofKind(resources, 'Deployment').map(roleOf);
      expect([...deployed].sort()).to.deep.equal([...roles].sort());
    });

    it('when rendered, should hold no Secret: the credentials are created outside the manifests', () => {
      expect(ofKind(resources, 'Secret').map(idOf)).to.be.empty;
    });

    for (const role of roles) {
      it(`when ${role} is deployed, should run it alone from the one image, probed and scraped on its port, with resources`, () => {
        const deployment = deploymentOf(resources, role);
        const [container, ...sidecars] = podSpecOf(deployment).containers;
        expect(sidecars).to.be.empty;
        expect(container.command).to.deep.equal(['node', 'dist/scripts/start.js']);
        expect(envValue(container, 'NODE_ENV')).to.equal('production');
        expect(envValue(container, 'MIGRATE_ON_START')).to.equal('false');
        const port = Number(envValue(container, 'PORT'));
        expect(port).to.equal(3000);
        expect(container.ports).to.deep.include({ name: 'http', containerPort: port });
        expect(container.readinessProbe?.httpGet?.path).to.equal('/readyz');
        expect(probedPort(container, container.readinessProbe)).to.equal(port);
        expect(container.livenessProbe?.httpGet?.path).to.equal('/healthz');
        expect(probedPort(container, container.livenessProbe)).to.equal(port);
        expect(probedPort(container, container.startupProbe)).to.equal(port);
        expect(deployment.spec.template.metadata.annotations).to.include({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(port),
          'prometheus.io/path': '/metrics',
        });
        const { requests, limits } = container.resources ?? {};
        for (const [quantity, read] of [
          ['cpu', cores],
          ['memory', bytes],
        ] as const) {
          expect(requests?.[quantity], `${quantity} request`).to.exist;
          expect(limits?.[quantity], `${quantity} limit`).to.exist;
          expect(read(limits[quantity])).to.be.at.least(read(requests[quantity]));
        }
        const images = new Set(
          [...ofKind(resources, 'Deployment'), ...ofKind(resources, 'Job')].flatMap(containersOf).map((c) => c.image),
        );
        expect([...images]).to.deep.equal([container.image]);
        expect(selects(deployment.spec.selector.matchLabels, podLabelsOf(deployment))).to.equal(true);
      });

      it(`when ${role} is deployed, should run as a locked-down non-root container`, () => {
        expectLockedDown(deploymentOf(resources, role));
      });

      it(`when ${role} is stopped, should give it more time than its own shutdown deadline`, () => {
        const deployment = deploymentOf(resources, role);
        const [container] = podSpecOf(deployment).containers;
        const environment = environmentOf(container, resources, workingSecret());
        const shutdownSeconds = Number(environment.SHUTDOWN_TIMEOUT_MS ?? 10_000) / 1000;
        const pauseSeconds = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        expect(podSpecOf(deployment).terminationGracePeriodSeconds ?? 30).to.be.above(shutdownSeconds + pauseSeconds);
      });

      it(`when ${role} starts with the rendered environment and a real Secret, should be accepted by the app`, () => {
        const [container] = podSpecOf(deploymentOf(resources, role)).containers;
        const environment = environmentOf(container, resources, workingSecret());
        if (!roles.includes('payments')) environment.PAYMENT_SERVICE_URL ??= 'https://pay.internal/api/v1';
        const config = parseConfig(environment);
        expect(config.ROLES).to.deep.equal([role]);
        expect(config.MIGRATE_ON_START).to.equal(false);
        expect(config.TRUST_PROXY).to.equal(environment.TRUST_PROXY).and.not.equal('loopback');
        const unknown = Object.keys(environment).filter((name) => !(name in config));
        expect(unknown, 'settings the app does not read').to.be.empty;
        for (const name of SECRETS) {
          const variable = container.env.find((candidate: any) => candidate.name === name);
          expect(variable?.valueFrom?.secretKeyRef, `${name} comes from the Secret`).to.exist;
        }
      });
    }

    it('when tickets is deployed, should run clearly more pods than any other role, scaled on CPU', () => {
      const tickets = deploymentOf(resources, 'tickets');
      const floor = replicasOf(resources, tickets);
      for (const role of roles.filter((other) => other !== 'tickets')) {
        expect(floor, `tickets against ${role}`).to.be.above(replicasOf(resources, deploymentOf(resources, role)));
      }
      const autoscaler = autoscalerOf(resources, tickets);
      expect(autoscaler, 'an autoscaler of tickets').to.exist;
      expect(autoscaler!.spec.minReplicas).to.be.at.least(2);
      expect(autoscaler!.spec.maxReplicas).to.be.above(autoscaler!.spec.minReplicas);
      expect(autoscaler!.spec.metrics).to.satisfy((metrics: any[]) =>
        metrics.some((metric) => metric.type === 'Resource' && metric.resource.name === 'cpu'),
      );
      expect(podSpecOf(tickets).containers[0].resources.requests.cpu).to.exist;
    });

    it('when a Deployment has an autoscaler, should leave its replica count to it', () => {
      for (const deployment of ofKind(resources, 'Deployment').filter((d) => autoscalerOf(resources, d))) {
        expect(deployment.spec, deployment.metadata.name).to.not.have.property('replicas');
      }
    });

    it('when a role runs several pods, should have a disruption budget selecting exactly its pods', () => {
      const deployments = ofKind(resources, 'Deployment');
      const budgets = ofKind(resources, 'PodDisruptionBudget');
      for (const deployment of deployments) {
        const replicas = replicasOf(resources, deployment);
        const mine = budgets.filter((budget) => selects(budget.spec.selector.matchLabels, podLabelsOf(deployment)));
        if (replicas < 2) {
          // A budget keeping the only pod would block every node drain.
          expect(mine, deployment.metadata.name).to.be.empty;
          continue;
        }
        expect(mine, `budgets of ${deployment.metadata.name}`).to.have.length(1);
        const { spec } = mine[0]!;
        expect(spec.maxUnavailable === 1 || (spec.minAvailable >= 1 && spec.minAvailable < replicas)).to.equal(true);
        for (const other of deployments.filter((d) => d !== deployment)) {
          expect(
            selects(spec.selector.matchLabels, podLabelsOf(other)),
            `also selects ${other.metadata.name}`,
          ).to.equal(false);
        }
      }
    });

    it('when pods are selected, should select one Deployment each: Services, spreading, Deployments', () => {
      const deployments = ofKind(resources, 'Deployment');
      for (const deployment of deployments) {
        const overlapping = deployments.filter((d) => selects(deployment.spec.selector.matchLabels, podLabelsOf(d)));
        expect(overlapping, `selected by ${deployment.metadata.name}`).to.deep.equal([deployment]);
        for (const constraint of podSpecOf(deployment).topologySpreadConstraints ?? []) {
          expect(selects(constraint.labelSelector.matchLabels, podLabelsOf(deployment))).to.equal(true);
        }
      }
      for (const service of ofKind(resources, 'Service')) {
        const targets = deployments.filter((d) => selects(service.spec.selector, podLabelsOf(d)));
        expect(targets, `Deployments behind Service ${service.metadata.name}`).to.have.length(1);
        const ports = containersOf(targets[0]!).flatMap((container) => container.ports ?? []);
        for (const { targetPort } of service.spec.ports) {
          expect(targetPort, 'a named container port').to.be.a('string');
          expect(ports.map((port) => port.name)).to.include(targetPort);
        }
      }
      for (const role of roles.filter((r) => HTTP_ROLES.includes(r))) {
        const deployment = deploymentOf(resources, role);
        const service = ofKind(resources, 'Service').find((s) => selects(s.spec.selector, podLabelsOf(deployment)));
        expect(service, `a Service in front of ${role}`).to.exist;
      }
    });

    it('when a request reaches the public entry, should be routed as the nginx topology routes it', () => {
      const serviceOfRole = (role: Role) =>
        ofKind(resources, 'Service').find((s) => selects(s.spec.selector, podLabelsOf(deploymentOf(resources, role))))!
          .metadata.name;
      const expected: Record<string, string> = {
        '/api/v1/orders': serviceOfRole('tickets'),
        '/api/v1/orders/': serviceOfRole('tickets'),
        '/api/v1/orders/42/pay': serviceOfRole('tickets'),
        '/api/v1/ordersheet': serviceOfRole('catalog'),
        '/api/v1/showings/7/seats': serviceOfRole('catalog'),
        '/api/v1/schedule?cityId=1': serviceOfRole('catalog'),
        '/api/v1/charges': serviceOfRole('catalog'),
        '/docs': serviceOfRole('catalog'),
        '/admin/queues': serviceOfRole('catalog'),
        '/socket.io/?EIO=4&transport=websocket': serviceOfRole('realtime'),
      };
      for (const [requestPath, serviceName] of Object.entries(expected)) {
        const reached = route(resources, requestPath);
        expect(reached?.service.name, requestPath).to.equal(serviceName);
        expect(reached!.ingress.metadata.annotations ?? {}).to.not.have.property(
          'nginx.ingress.kubernetes.io/denylist-source-range',
        );
        const service = ofKind(resources, 'Service').find((s) => s.metadata.name === serviceName)!;
        const { name, number } = reached!.service.port;
        expect(
          service.spec.ports.some((p: any) => p.name === name || p.port === number),
          requestPath,
        ).to.equal(true);
      }
      for (const ingress of ofKind(resources, 'Ingress')) expect(ingress.spec.ingressClassName).to.equal('nginx');
    });

    it('when a websocket is open, should be given a long timeout that the REST API does not get', () => {
      const timeouts = (requestPath: string) => {
        const annotations = route(resources, requestPath)!.ingress.metadata.annotations ?? {};
        return ['proxy-read-timeout', 'proxy-send-timeout'].map((name) =>
          Number(annotations[`nginx.ingress.kubernetes.io/${name}`] ?? 60),
        );
      };
      for (const seconds of timeouts('/socket.io/')) expect(seconds).to.be.at.least(600);
      for (const seconds of [...timeouts('/api/v1/orders'), ...timeouts('/')]) expect(seconds).to.be.at.most(60);
    });

    it('when the probe and metrics paths are asked of the public entry, should refuse them', () => {
      for (const requestPath of ['/healthz', '/readyz', '/metrics', '/metrics/']) {
        const annotations = route(resources, requestPath)?.ingress.metadata.annotations ?? {};
        const denied = annotations['nginx.ingress.kubernetes.io/denylist-source-range']?.split(',') ?? [];
        expect(denied, requestPath).to.include.members(['0.0.0.0/0', '::/0']);
      }
    });

    it('when the payment service is reached, should be internal: the workers call it, no Ingress routes to it', () => {
      const backends = ofKind(resources, 'Ingress').flatMap((ingress) =>
        ingress.spec.rules.flatMap((rule: any) => rule.http.paths.map((p: any) => p.backend.service.name)),
      );
      const configMap = ofKind(resources, 'ConfigMap').find((c) => c.metadata.name === 'cinema-config')!;
      if (!roles.includes('payments')) {
        expect(configMap.data).to.not.have.property('PAYMENT_SERVICE_URL');
        const simulatorParts = resources.filter((r) => JSON.stringify(r).includes('PAYMENT_SIMULATOR_ALLOWED'));
        expect(simulatorParts.map(idOf)).to.be.empty;
        expect(ofKind(resources, 'Service').map((s) => s.metadata.name)).to.not.include('payments');
        // Production then refuses to start until PAYMENT_SERVICE_URL names the real processor.
        const [container] = podSpecOf(deploymentOf(resources, 'workers')).containers;
        expect(() => parseConfig(environmentOf(container, resources, workingSecret()))).to.throw(
          ConfigError,
          'PAYMENT_SERVICE_URL',
        );
        return;
      }
      const url = new URL(configMap.data.PAYMENT_SERVICE_URL);
      const service = ofKind(resources, 'Service').find((s) => s.metadata.name === url.hostname);
      expect(service, `the Service ${url.hostname}`).to.exist;
      expect(backends).to.not.include(service!.metadata.name);
      expect(service!.spec.type ?? 'ClusterIP').to.equal('ClusterIP');
      expect(selects(service!.spec.selector, podLabelsOf(deploymentOf(resources, 'payments')))).to.equal(true);
      expect(service!.spec.ports.map((p: any) => p.port)).to.include(Number(url.port || 80));
      expect(url.pathname).to.equal('/api/v1');
    });

    it('when migrating, should run migrate.js once per attempt from the roles image, then clean up', () => {
      const jobs = ofKind(resources, 'Job');
      expect(jobs).to.have.length(1);
      const job = jobs[0]!;
      const [container] = podSpecOf(job).containers;
      expect(container.command).to.deep.equal(['node', 'dist/scripts/migrate.js']);
      expect(container.image).to.equal(podSpecOf(deploymentOf(resources, 'catalog')).containers[0].image);
      expect(job.spec.backoffLimit).to.be.a('number').within(0, 6);
      expect(job.spec.ttlSecondsAfterFinished).to.be.a('number');
      expect(podSpecOf(job).restartPolicy).to.be.oneOf(['Never', 'OnFailure']);
      expect(container.resources?.requests).to.exist;
      expect(container.resources?.limits).to.exist;
      expectLockedDown(job);
      // Only the Secret, which exists before anything is applied: the Job can run ahead of the rest.
      expect(JSON.stringify(podSpecOf(job))).to.not.include('configMap');
      expect(() => parseDataTaskConfig(environmentOf(container, resources, workingSecret()))).to.not.throw();
    });

    it('when a pod reads a Secret or a ConfigMap, should name one the example Secret or the rendering defines', () => {
      const example = exampleSecret();
      const keys = Object.keys(example.stringData ?? example.data ?? {});
      const configMaps = new Map(ofKind(resources, 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
      for (const resource of resources.filter((r) => podSpecOf(r))) {
        for (const container of containersOf(resource)) {
          const where = `${idOf(resource)} ${container.name}`;
          for (const { secretRef, configMapRef } of container.envFrom ?? []) {
            if (secretRef) expect(secretRef.name, where).to.equal(example.metadata.name);
            if (configMapRef) expect([...configMaps.keys()], where).to.include(configMapRef.name);
          }
          for (const { name, valueFrom } of container.env ?? []) {
            const { secretKeyRef, configMapKeyRef } = valueFrom ?? {};
            if (secretKeyRef) {
              expect(secretKeyRef.name, `${where} ${name}`).to.equal(example.metadata.name);
              expect(keys, `${where} ${name}`).to.include(secretKeyRef.key);
            }
            if (configMapKeyRef) {
              expect(configMaps.get(configMapKeyRef.name), `${where} ${name}`).to.have.property(configMapKeyRef.key);
            }
          }
        }
      }
    });
  });
}

describe('Kubernetes manifests: the example Secret', () => {
  it('when read, should be a valid Secret that no kustomization renders', () => {
    validate(exampleSecret());
    for (const { dir, options } of renderings) {
      expect(kustomize(dir, options).map(idOf)).to.not.include(idOf(exampleSecret()));
    }
  });

  it('when applied as it is, should be refused by the app: its tokens are placeholders', () => {
    const base = kustomize(path.join(K8S, 'base'));
    const [container] = podSpecOf(deploymentOf(base, 'catalog')).containers;
    const environment = environmentOf(container, base, exampleSecret().stringData);
    expect(() => parseConfig(environment)).to.throw(ConfigError, /ADMIN_TOKEN[\s\S]*ORDER_TOKEN_SECRET/);
    expect(() => parseConfig(environment)).to.throw(ConfigError, 'PAYMENT_SERVICE_KEY');
  });
});

describe("Kubernetes manifests: the production overlay's own settings", () => {
  it('when rendered, should pin the image and put every namespaced object in its namespace', () => {
    const resources = kustomize(path.join(K8S, 'overlays/production'));
    const images = resources.flatMap(containersOf).map((container) => container.image);
    for (const image of images) expect(splitImage(image).tag ?? 'latest', image).to.not.equal('latest');
    const [namespace] = ofKind(resources, 'Namespace');
    for (const resource of resources.filter((r) => r.kind !== 'Namespace')) {
      expect(resource.metadata.namespace, idOf(resource)).to.equal(namespace!.metadata.name);
    }
  });
});

function expectLockedDown(resource: Resource): void {
  const pod = podSpecOf(resource);
  expect(pod.automountServiceAccountToken, 'automountServiceAccountToken').to.equal(false);
  for (const container of containersOf(resource)) {
    const own = container.securityContext ?? {};
    const where = `${idOf(resource)} ${container.name}`;
    expect(own.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, where).to.equal(true);
    // The image names its user (`node`): the kubelet can check runAsNonRoot only against a number.
    expect(own.runAsUser ?? pod.securityContext?.runAsUser, where)
      .to.be.a('number')
      .above(0);
    expect((own.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, where).to.equal('RuntimeDefault');
    expect(own.allowPrivilegeEscalation, where).to.equal(false);
    expect(own.readOnlyRootFilesystem, where).to.equal(true);
    expect(own.privileged ?? false, where).to.equal(false);
    expect(own.capabilities?.drop, where).to.include('ALL');
    expect(own.capabilities?.add ?? [], where).to.be.empty;
    const volumes = (pod.volumes ?? []).map((volume: any) => volume.name);
    for (const mount of container.volumeMounts ?? []) expect(volumes, where).to.include(mount.name);
  }
}
