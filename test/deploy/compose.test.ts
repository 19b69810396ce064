import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { CONTRACT_METRICS } from '../metric-contract.js';

// Docker does not run where the tests run: these checks read the deployment files themselves
// (docker-compose.yml, Dockerfile, deploy/compose/) and hold them to the production contract.

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const ROLES = ['catalog', 'tickets', 'workers', 'realtime', 'payments'] as const;
const PUBLIC_ROLES = ['catalog', 'tickets', 'realtime'] as const;
const SECRETS = ['ADMIN_TOKEN', 'ORDER_TOKEN_SECRET', 'PAYMENT_SERVICE_KEY'] as const;

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[] | string };
  restart?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
  deploy?: { replicas?: number };
  ports?: (string | { published?: string | number; host_ip?: string })[];
  profiles?: string[];
  stop_grace_period?: string;
  volumes?: (string | { source?: string; target?: string })[];
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

// `merge: true`: the file shares its image, environment and role settings through `<<` merge keys.
let parsed: Compose | undefined;
const compose = (): Compose => (parsed ??= parse(read('docker-compose.yml'), { merge: true }) as Compose);
const service = (name: string): Service => {
  const found = compose().services[name];
  expect(found, `service ${name}`).to.be.an('object');
  return found!;
};
const words = (value: string[] | string | undefined): string[] =>
  Array.isArray(value) ? value : (value ?? '').split(/\s+/).filter(Boolean);
/** The value of a `--flag value` pair in a command line. */
const flag = (command: string[], name: string) => command[command.indexOf(name) + 1];

describe('docker compose deployment', () => {
  describe('docker-compose.yml', () => {
    it('when each role is deployed, should run it from the one image with its ROLES, production settings and the shared secrets', () => {
      const image = service('migrate').image;
      expect(image, 'migrate image').to.be.a('string').and.not.be.empty;
      for (const role of ROLES) {
        const { environment = {}, ...svc } = service(role);
        expect(svc.image, `${role} image`).to.equal(image);
        expect(environment.ROLES, `${role} ROLES`).to.equal(role);
        expect(environment.NODE_ENV, `${role} NODE_ENV`).to.equal('production');
        expect(String(environment.MIGRATE_ON_START), `${role} MIGRATE_ON_START`).to.equal('false');
        expect(environment.TRUST_PROXY, `${role} TRUST_PROXY`)
          .to.be.a('string')
          .and.not.match(/^(loopback)?$/);
        expect(environment.PAYMENT_SERVICE_URL, `${role} PAYMENT_SERVICE_URL`).to.match(
          /^http:\/\/[\w.-]+(:\d+)?\/api\/v1$/,
        );
        for (const secret of SECRETS) expect(environment, `${role} environment`).to.have.property(secret);
      }
      expect(service('workers').environment?.PAYMENT_SERVICE_URL).to.equal('http://payments:3000/api/v1');
    });

    it('when the payment simulator is deployed, should be its own role allowed explicitly, and the only one allowed', () => {
      for (const role of ROLES) {
        const allowed = String(service(role).environment?.PAYMENT_SIMULATOR_ALLOWED);
        expect(allowed, `${role} PAYMENT_SIMULATOR_ALLOWED`).to.equal(role === 'payments' ? 'true' : 'undefined');
      }
    });

    it('when a role instance starts, should wait for the migration to complete and the stores to be healthy', () => {
      for (const role of ROLES) {
        const dependsOn = service(role).depends_on as Record<string, { condition?: string }>;
        expect(dependsOn?.migrate?.condition, `${role} on migrate`).to.equal('service_completed_successfully');
        expect(dependsOn?.postgres?.condition, `${role} on postgres`).to.equal('service_healthy');
        expect(dependsOn?.redis?.condition, `${role} on redis`).to.equal('service_healthy');
      }
    });

    it('when a role instance runs, should be probed on /readyz, restarted, and given time to drain', () => {
      for (const role of ROLES) {
        const svc = service(role);
        expect(words(svc.healthcheck?.test).join(' '), `${role} healthcheck`).to.match(/^CMD node -e .*\/readyz/);
        expect(svc.restart, `${role} restart`).to.be.oneOf(['unless-stopped', 'always', 'on-failure']);
        expect(svc.stop_grace_period, `${role} stop_grace_period`).to.match(/^\d+s$/);
        const grace = Number.parseInt(svc.stop_grace_period!, 10) * 1000;
        expect(grace, `${role} stop_grace_period vs SHUTDOWN_TIMEOUT_MS`).to.be.above(
          Number(svc.environment?.SHUTDOWN_TIMEOUT_MS ?? 10_000),
        );
      }
    });

    it('when the topology is sized, should run clearly more tickets instances than any other role', () => {
      const replicas = (role: string) => service(role).deploy?.replicas ?? 1;
      for (const role of ROLES.filter((role) => role !== 'tickets')) {
        expect(replicas('tickets'), `tickets vs ${role}`).to.be.above(replicas(role));
      }
    });

    it('when secrets are configured, should require each one from the environment with no default anywhere', () => {
      const text = read('docker-compose.yml');
      for (const [name, svc] of Object.entries(compose().services)) {
        for (const secret of SECRETS) {
          const value = svc.environment?.[secret];
          if (value === undefined) continue;
          expect(value, `${name} ${secret}`).to.match(new RegExp(`^\\$\\{${secret}:\\?[^}]+\\}$`));
        }
        const password = /^postgres:\/\/[^:]+:([^@]+)@/.exec(String(svc.environment?.DATABASE_URL ?? ''))?.[1];
        if (password !== undefined)
          expect(password, `${name} DATABASE_URL`).to.match(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
      }
      expect(service('postgres').environment?.POSTGRES_PASSWORD).to.match(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
      // Whatever the variable and wherever it is: a secret-looking one never falls back to a value.
      for (const [, name, fallback] of text.matchAll(/\$\{(\w*(?:PASSWORD|TOKEN|SECRET|KEY)\w*):?[-=]([^}]*)\}/g)) {
        expect(fallback, `default of ${name}`).to.equal('');
      }
      for (const [, key, value] of text.matchAll(/^\s*(\w*(?:PASSWORD|TOKEN|SECRET|KEY)\w*):[ \t]*(\S.*)$/gm)) {
        expect(value, `${key}`).to.match(/^\$\{\w+(:\?[^}]+|:-)?\}$/);
      }
    });

    it('when Redis holds the queues, should never evict a key and should fsync its log every second', () => {
      const command = words(service('redis').command);
      expect(flag(command, '--maxmemory-policy')).to.equal('noeviction');
      expect(flag(command, '--appendfsync')).to.equal('everysec');
      expect(flag(command, '--appendonly')).to.equal('yes');
      expect(service('redis').healthcheck?.test, 'redis healthcheck').to.not.be.undefined;
    });

    it('when PostgreSQL runs, should be version 15 or later with the checkpoint tuning and a healthcheck', () => {
      const postgres = service('postgres');
      expect(Number(/^postgres:(\d+)/.exec(postgres.image ?? '')?.[1])).to.be.at.least(15);
      const command = words(postgres.command).join(' ');
      expect(command).to.include('max_wal_size=').and.include('checkpoint_timeout=');
      expect(words(postgres.healthcheck?.test).join(' ')).to.include('pg_isready');
    });

    it('when the stores keep data, should keep it in named volumes', () => {
      const { volumes = {} } = compose();
      for (const [name, path] of [
        ['postgres', '/var/lib/postgresql/data'],
        ['redis', '/data'],
      ] as const) {
        const mount = (service(name).volumes ?? []).map(String).find((volume) => volume.endsWith(`:${path}`));
        const source = mount?.split(':')[0] ?? '';
        expect(volumes, `${name} volume ${source}`).to.have.property(source);
      }
    });

    it('when ports are published, should publish only nginx publicly (monitoring on loopback only)', () => {
      for (const [name, svc] of Object.entries(compose().services)) {
        if (name === 'nginx' || !svc.ports?.length) continue;
        expect(svc.profiles, `${name} publishes ${JSON.stringify(svc.ports)}`).to.include('monitoring');
        for (const port of svc.ports) expect(String(port), `${name} port`).to.match(/^127\.0\.0\.1:/);
      }
      expect(service('nginx').ports).to.have.length(1);
      expect(String(service('nginx').ports![0])).to.match(/:80$/);
    });

    it('when the deployment starts, should migrate once with migrate.js and never restart it', () => {
      const migrate = service('migrate');
      expect(words(migrate.command)).to.deep.equal(['node', 'dist/scripts/migrate.js']);
      expect(migrate.restart).to.equal('no');
    });

    it('when nginx runs, should be an nginx version with `resolve` in upstreams, configured from deploy/compose', () => {
      const nginx = service('nginx');
      const [major = 0, minor = 0] = (/^nginx:(\d+)\.(\d+)/.exec(nginx.image ?? '') ?? []).slice(1).map(Number);
      expect(major * 1000 + minor, nginx.image).to.be.at.least(1027);
      expect((nginx.volumes ?? []).map(String)).to.include('./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro');
    });

    it('when the monitoring profile is off, should start neither Prometheus nor Grafana', () => {
      for (const name of ['prometheus', 'grafana']) expect(service(name).profiles).to.deep.equal(['monitoring']);
    });
  });

  describe('deploy/compose/nginx.conf', () => {
    const http = () => single(parseNginx(read('deploy/compose/nginx.conf')), 'http').block!;
    const server = () => single(http(), 'server').block!;
    const route = (uri: string) => {
      const location = locate(server(), uri);
      expect(location, `a location for ${uri}`).to.not.be.undefined;
      const pass = location!.block.find((directive) => directive.name === 'proxy_pass')?.args[0];
      return { location: location!, upstream: pass?.replace(/^https?:\/\//, '') };
    };
    const effective = (name: string, location: Location) => inherited(name, location.block, server(), http());

    it('when the upstreams are defined, should keep connections alive and take failing instances out', () => {
      for (const role of PUBLIC_ROLES) {
        const upstream = http().find((directive) => directive.name === 'upstream' && directive.args[0] === role);
        expect(upstream, `upstream ${role}`).to.not.be.undefined;
        const block = upstream!.block!;
        const keepalive = block.findIndex((directive) => directive.name === 'keepalive');
        expect(Number(block[keepalive]?.args[0]), `${role} keepalive`).to.be.above(0);
        const method = block.findLastIndex((directive) => /^(least_conn|hash|ip_hash|random)$/.test(directive.name));
        expect(method, `${role}: the balancing method goes before keepalive`).to.be.below(keepalive);
        const servers = block.filter((directive) => directive.name === 'server');
        expect(servers, `${role} servers`).to.not.be.empty;
        for (const { args } of servers) {
          expect(args[0], `${role} server`).to.equal(`${role}:3000`);
          if (role === 'realtime') expect(args, `${role} server`).to.include('max_fails=0');
          else expect(args, `${role} server`).to.include('max_fails=3').and.include('fail_timeout=10s');
          if (args.includes('resolve')) {
            expect(block.some((directive) => directive.name === 'zone')).to.equal(
              true,
              `${role}: resolve needs a zone`,
            );
            expect(single(http(), 'resolver').args[0], 'resolver').to.equal('127.0.0.11');
          }
        }
      }
    });

    it('when a request arrives, should route orders to tickets, /socket.io/ to realtime and the rest to catalog', () => {
      const expected: Record<string, string> = {
        '/api/v1/orders': 'tickets',
        '/api/v1/orders/42': 'tickets',
        '/api/v1/orders/42/pay': 'tickets',
        '/api/v1/orders/42/cancel': 'tickets',
        '/socket.io/': 'realtime',
        '/api/v1/ordersheet': 'catalog',
        '/api/v1/schedule': 'catalog',
        '/api/v1/cities/1/cinemas': 'catalog',
        '/api/v1/showings/7/seats': 'catalog',
        '/docs': 'catalog',
        '/admin/queues': 'catalog',
        '/': 'catalog',
      };
      for (const [uri, upstream] of Object.entries(expected)) expect(route(uri).upstream, uri).to.equal(upstream);
    });

    it('when /metrics, /healthz or /readyz is asked on the public entry, should not proxy it', () => {
      for (const uri of ['/metrics', '/healthz', '/readyz']) {
        const { location, upstream } = route(uri);
        expect(upstream, uri).to.be.undefined;
        expect(location.block.find((directive) => directive.name === 'return')?.args[0], uri).to.match(/^4\d\d$/);
      }
      expect(read('deploy/compose/nginx.conf')).to.not.match(/proxy_pass\s+http:\/\/payments/);
    });

    it('when a request is proxied, should use HTTP/1.1 keep-alive and pass Host, forwarding headers and the request id', () => {
      const map = http().find((directive) => directive.name === 'map' && directive.args[0] === '$http_x_request_id');
      expect(map, 'map of $http_x_request_id').to.not.be.undefined;
      const requestId = map!.args[1]!;
      expect(map!.block!.find((directive) => directive.name === 'default')?.args[0]).to.equal('$request_id');
      const addHeader = server().find(
        (directive) => directive.name === 'add_header' && directive.args[0] === 'X-Request-Id',
      );
      expect(addHeader?.args, 'add_header X-Request-Id').to.deep.equal(['X-Request-Id', requestId, 'always']);
      for (const uri of ['/api/v1/orders', '/api/v1/orders/1', '/socket.io/', '/api/v1/schedule']) {
        const { location } = route(uri);
        expect(effective('proxy_http_version', location)[0]?.args[0], `${uri} proxy_http_version`).to.equal('1.1');
        const headers = Object.fromEntries(
          effective('proxy_set_header', location).map(({ args }) => [args[0]!, args[1]]),
        );
        expect(headers, uri).to.include({
          Host: '$host',
          'X-Forwarded-Proto': '$scheme',
          'X-Request-Id': requestId,
        });
        expect(headers['X-Forwarded-For'], `${uri} X-Forwarded-For`).to.match(
          /^\$(remote_addr|proxy_add_x_forwarded_for)$/,
        );
        if (uri !== '/socket.io/') expect(headers.Connection, `${uri} Connection`).to.equal('');
      }
    });

    it('when a socket connects, should upgrade to a websocket and keep it open for a long time', () => {
      const { location } = route('/socket.io/');
      const headers = Object.fromEntries(
        effective('proxy_set_header', location).map(({ args }) => [args[0]!, args[1]]),
      );
      expect(headers.Upgrade).to.equal('$http_upgrade');
      expect(headers.Connection).to.match(/upgrade/i);
      expect(seconds(effective('proxy_read_timeout', location)[0]?.args[0] ?? '60s')).to.be.at.least(300);
    });

    it('when an upstream fails, should retry GETs and the idempotent order submit, never pay or cancel', () => {
      for (const uri of ['/api/v1/orders', '/api/v1/orders/1/pay', '/socket.io/', '/api/v1/schedule']) {
        const args = effective('proxy_next_upstream', route(uri).location)[0]?.args ?? [];
        expect(args, uri).to.include.members(['error', 'timeout', 'http_502', 'http_504']);
        // A 503 is a shared store away: the next instance would say the same, and counting it takes them all out.
        expect(args, uri).not.to.include('http_503');
        // Only the submit carries an Idempotency-Key the service replays: only it may be resent.
        expect(args.includes('non_idempotent'), `${uri} non_idempotent`).to.equal(uri === '/api/v1/orders');
      }
      const everywhere = (directives: Directive[]): Directive[] =>
        directives.flatMap((directive) => [directive, ...everywhere(directive.block ?? [])]);
      const resent = everywhere(parseNginx(read('deploy/compose/nginx.conf'))).filter(
        ({ name, args }) => name === 'proxy_next_upstream' && args.includes('non_idempotent'),
      );
      expect(resent, 'proxy_next_upstream ... non_idempotent anywhere').to.have.length(1);
    });

    it('when nginx is installed, should accept the config in `nginx -t`', function () {
      const version = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
      if (version.error) {
        console.log('      (skipped: nginx is not installed here; `apt-get install -y nginx` enables this check)');
        this.skip();
      }
      const [major = 0, minor = 0, patch = 0] = (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(version.stderr) ?? [])
        .slice(1)
        .map(Number);
      const dir = mkdtempSync(join(tmpdir(), 'nginx-conf-'));
      // Docker's service names do not resolve here, the image's `nginx` user may not exist, and
      // /dev/stdout and /dev/stderr may be sockets.
      let config = read('deploy/compose/nginx.conf')
        .replace(/\bserver\s+[\w-]+:3000\b/g, 'server 127.0.0.1:3000')
        .replace(/^user\s+nginx;$/m, '')
        .replace(/\/dev\/std(out|err)\b/g, (_, stream: string) => join(dir, `${stream}.log`));
      if (major * 1_000_000 + minor * 1000 + patch < 1_027_003) {
        // Before 1.27.3 open source nginx rejects `resolve`: check everything else.
        console.log(`      (nginx ${major}.${minor}.${patch} here predates \`resolve\`: checked without it)`);
        config = config.replace(/\s+resolve(?=[\s;])/g, '');
      }
      try {
        writeFileSync(join(dir, 'nginx.conf'), config);
        const result = spawnSync('nginx', ['-t', '-q', '-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], {
          encoding: 'utf8',
        });
        expect(result.status, result.stderr).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('deploy/compose/prometheus.yml', () => {
    it('when Prometheus scrapes, should find every role instance through Docker DNS and label it by role', () => {
      type ScrapeConfig = {
        metrics_path?: string;
        dns_sd_configs?: { names: string[]; type?: string; port?: number }[];
        relabel_configs?: { source_labels?: string[]; target_label?: string }[];
      };
      const config = parse(read('deploy/compose/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };
      const scraped = new Set<string>();
      for (const job of config.scrape_configs) {
        for (const sd of job.dns_sd_configs ?? []) {
          expect(sd.type, 'dns_sd type').to.equal('A');
          expect(sd.port, 'dns_sd port').to.equal(3000);
          expect(job.metrics_path ?? '/metrics').to.equal('/metrics');
          const relabelled = (job.relabel_configs ?? []).some(
            (relabel) => relabel.source_labels?.includes('__meta_dns_name') && relabel.target_label === 'job',
          );
          expect(relabelled, 'job relabelled from __meta_dns_name').to.equal(true);
          for (const name of sd.names) scraped.add(name);
        }
      }
      expect([...scraped]).to.include.members([...ROLES]);
      expect((service('prometheus').volumes ?? []).map(String)).to.include(
        './deploy/compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
      );
    });
  });

  describe('deploy/compose/grafana', () => {
    type Panel = {
      type: string;
      title?: string;
      panels?: Panel[];
      targets?: { expr?: string; datasource?: { uid?: string } }[];
    };
    const dashboardPath = 'deploy/compose/grafana/dashboards/cinema.json';
    const panels = (): Panel[] => {
      const dashboard = JSON.parse(read(dashboardPath)) as { panels: Panel[] };
      return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
    };
    const expressions = () => panels().flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));

    it('when the dashboard queries, should name only the contract metrics and prom-client defaults', async () => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const known: Record<string, string> = { ...CONTRACT_METRICS };
      for (const { name, type } of await registry.getMetricsAsJSON()) known[name] = String(type);
      registry.clear();
      const exprs = expressions();
      expect(exprs, 'queries').to.not.be.empty;
      for (const expr of exprs) {
        const names = metricNames(expr);
        expect(names, expr).to.not.be.empty;
        for (const name of names) {
          const base = name.replace(/_(bucket|sum|count)$/, '');
          const ok = known[name] !== undefined || (base !== name && known[base] === 'histogram');
          expect(ok, `${name} in ${expr}`).to.equal(true);
        }
      }
    });

    it('when the dashboard is opened, should show traffic, latency, orders, queues, sockets, event loop and CPU', () => {
      const exprs = expressions();
      const some = (pattern: RegExp, what: string) =>
        expect(
          exprs.some((expr) => pattern.test(expr)),
          what,
        ).to.equal(true);
      some(/by \([^)]*\broute\b[^)]*\) \(rate\(http_request_duration_seconds_count\[/, 'request rate per route');
      some(
        /histogram_quantile\(0\.99, sum by \([^)]*\ble\b[^)]*\broute\b[^)]*\) \(rate\(http_request_duration_seconds_bucket/,
        'p99 per route',
      );
      some(/by \(outcome\) \(rate\(orders_decided_total/, 'orders decided per outcome');
      some(/histogram_quantile\(0\.99, .*order_submit_to_decision_seconds_bucket/, 'submit → decision p99');
      some(/by \(partition\) \(allocation_queue_depth\)/, 'queue depth per partition');
      some(/realtime_connected_sockets/, 'connected sockets');
      some(/nodejs_eventloop_lag\w*seconds/, 'event-loop lag');
      some(/by \(role\) \(rate\(process_cpu_seconds_total/, 'CPU per role');
    });

    it('when Grafana starts, should provision the Prometheus data source the dashboard uses and load the dashboard', () => {
      const datasources = parse(read('deploy/compose/grafana/provisioning/datasources/prometheus.yml')) as {
        datasources: { uid: string; type: string; url: string }[];
      };
      const [datasource] = datasources.datasources;
      expect(datasource?.type).to.equal('prometheus');
      expect(datasource?.url).to.equal('http://prometheus:9090');
      for (const panel of panels()) {
        for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).to.equal(datasource?.uid);
      }
      const providers = parse(read('deploy/compose/grafana/provisioning/dashboards/cinema.yml')) as {
        providers: { options: { path: string } }[];
      };
      const mounts = (service('grafana').volumes ?? []).map(String);
      expect(mounts).to.include('./deploy/compose/grafana/provisioning:/etc/grafana/provisioning:ro');
      expect(mounts).to.include(`./deploy/compose/grafana/dashboards:${providers.providers[0]?.options.path}:ro`);
      expect(existsSync(join(root, dashboardPath))).to.equal(true);
    });
  });

  describe('Dockerfile', () => {
    it('when the image is built, should use Node 22 or later in every stage and run start.js as `node`', () => {
      const dockerfile = read('Dockerfile');
      const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]!);
      expect(froms, 'FROM lines').to.not.be.empty;
      for (const from of froms) expect(Number(/^node:(\d+)/.exec(from)?.[1]), from).to.be.at.least(22);
      const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      expect(runtime).to.match(/^ENV NODE_ENV=production$/m);
      expect(runtime).to.match(/^USER node$/m);
      expect(runtime).to.match(/^EXPOSE 3000$/m);
      expect(runtime).to.match(/^CMD \["node", "dist\/scripts\/start\.js"\]$/m);
      expect(dockerfile)
        .to.match(/npm ci\b/)
        .and.match(/npm run build\b/)
        .and.match(/npm prune --omit=dev\b/);
      const ignored = read('.dockerignore').split('\n');
      expect(ignored).to.include.members(['node_modules', 'dist', '.git']);
    });
  });
});

type Directive = { name: string; args: string[]; block?: Directive[] };

/** nginx's config as a tree of directives (enough of its grammar for this file: no `{` inside a regex). */
function parseNginx(text: string): Directive[] {
  const top: Directive[] = [];
  const stack: Directive[][] = [top];
  let current: string[] = [];
  for (const [token, doubleQuoted, singleQuoted, punctuation, word] of text.matchAll(
    /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)/g,
  )) {
    if (token.startsWith('#')) continue;
    const level = stack.at(-1)!;
    if (punctuation === '{') {
      const block: Directive[] = [];
      level.push({ name: current[0]!, args: current.slice(1), block });
      stack.push(block);
      current = [];
    } else if (punctuation === ';') {
      level.push({ name: current[0]!, args: current.slice(1) });
      current = [];
    } else if (punctuation === '}') {
      stack.pop();
    } else {
      current.push(doubleQuoted ?? singleQuoted ?? word!);
    }
  }
  expect(stack, 'balanced braces in nginx.conf').to.have.length(1);
  return top;
}

function single(directives: Directive[], name: string): Directive {
  const found = directives.filter((directive) => directive.name === name);
  expect(found, name).to.have.length(1);
  return found[0]!;
}

type Location = { modifier: string; path: string; block: Directive[] };

/** nginx's choice of location: exact, else the longest prefix unless `^~`, then regexes in order. */
function locate(server: Directive[], uri: string): Location | undefined {
  const locations = server
    .filter((directive) => directive.name === 'location')
    .map(({ args, block }) =>
      args.length === 2
        ? { modifier: args[0]!, path: args[1]!, block: block! }
        : { modifier: '', path: args[0]!, block: block! },
    );
  const exact = locations.find((location) => location.modifier === '=' && location.path === uri);
  if (exact) return exact;
  const [longest] = locations
    .filter((location) => ['', '^~'].includes(location.modifier) && uri.startsWith(location.path))
    .sort((a, b) => b.path.length - a.path.length);
  if (longest?.modifier === '^~') return longest;
  const regex = locations.find(
    (location) =>
      ['~', '~*'].includes(location.modifier) &&
      new RegExp(location.path, location.modifier === '~*' ? 'i' : '').test(uri),
  );
  return regex ?? longest;
}

/** A directive's effective occurrences: those of the innermost level that has any (nginx's inheritance). */
function inherited(name: string, ...levels: Directive[][]): Directive[] {
  for (const level of levels) {
    const found = level.filter((directive) => directive.name === name);
    if (found.length > 0) return found;
  }
  return [];
}

function seconds(value: string): number {
  const [, amount, unit = 's'] = /^(\d+)(ms|s|m|h|d)?$/.exec(value) ?? [];
  return Number(amount) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[unit]!;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (not its functions, labels, durations or numbers). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)]
    .map(([name]) => name)
    .filter((name) => !PROMQL_WORDS.has(name.toLowerCase()));
}
