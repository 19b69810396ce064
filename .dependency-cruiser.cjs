/**
 * The layout's rules, checked by `npm run lint` (see README, Architecture):
 *
 *   host/ (composition root: config, wiring, the role map, the process)
 *     └► api/ · workers/ · realtime/      delivery: validate, call one use case, present
 *          └► domain/                      use cases, the model (domain/model), the ports it owns
 *               └► db/ (the only SQL)      repositories; they know the domain's model, nothing more
 *   infra/   implementations of the domain's ports (BullMQ, Redis, caches, batching, the payment client, pino)
 *   simulators/payment-provider/   a separate system (the stand-in card processor), known only to the role map
 *
 * The suite's harness (test/) may reach anything; unit tests beside the code (`*.test.ts`) keep their
 * folder's rules about layers, but may use devDependencies. scripts/ counts as production (it runs from
 * dist/ with production dependencies); its bench harness reads what it measures, such as the
 * simulator's tables (scripts/bench/audit.ts), by SQL rather than by import. The soak runs (scripts/soak/)
 * are the exception: they drive artillery and draw charts, tools of a development install only.
 * What dependency-cruiser cannot see, a query built on an injected connection outside db/, is
 * refused by eslint (eslint.config.js, the db/ rule).
 */
const TEST = '(^test/|\\.test\\.ts$)';
const SOAK = '^scripts/soak/';
const DELIVERY = '^(api|workers|realtime)/';
const PRODUCTION = '^(api|workers|realtime|domain|db|infra|host|simulators|scripts)/';
/** What is started rather than imported: the process, the CLIs, the benchmarks. */
const ENTRY_POINTS =
  '^scripts/(start|migrate|topology|seed|seed-sales|fuzz|realtime-client|soak/(rolling|artillery|chaos))\\.ts$|^scripts/bench/(orders|payments|realtime|reads|hot-showing|naive-peer|bare-server|memory-probe|topology-step|seating|statistics)\\.ts$';
/** Clients of infrastructure the domain must not see: queues, Redis, the breaker, the logger, sockets. */
const INFRA_CLIENTS = 'node_modules/(bullmq|ioredis|opossum|pino|@socket\\.io/redis-adapter)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-knows-no-outer-layer',
      comment: 'Use cases do not know HTTP, job consumers, sockets, the wiring, infra/ or the simulator.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(api|workers|realtime|host|infra|simulators|scripts|test)/' },
    },
    {
      name: 'domain-imports-no-infrastructure-client',
      comment:
        'The domain depends on its own ports (domain/ports.ts), never on BullMQ, ioredis, opossum, pino or sockets.',
      severity: 'error',
      from: { path: '^domain/', pathNot: TEST },
      to: { path: `${INFRA_CLIENTS}|node_modules/(socket\\.io|express)/` },
    },
    {
      name: 'infrastructure-clients-only-in-infra',
      comment: 'Queue, Redis, breaker and logger clients are created in infra/ alone.',
      severity: 'error',
      from: { pathNot: `^infra/|${TEST}` },
      to: { path: INFRA_CLIENTS },
    },
    {
      name: 'db-knows-only-the-model',
      comment: 'Repositories import the domain\u2019s vocabulary (domain/model) and nothing else above them.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(domain/(?!model/)|api|workers|realtime|host|infra|simulators|scripts)' },
    },
    {
      name: 'infra-implements-ports',
      comment:
        'infra/ implements the domain\u2019s ports: it may read the model, the ports and the config, not call use cases.',
      severity: 'error',
      from: { path: '^infra/', pathNot: TEST },
      to: {
        path: '^(domain/(?!model/|ports\\.ts|throttled-log\\.ts|config\\.ts)|db|api|workers|realtime|host|simulators|scripts)',
      },
    },
    {
      name: 'delivery-calls-use-cases',
      comment: 'Handlers call use cases; they never reach repositories, infrastructure, the wiring or the simulator.',
      severity: 'error',
      from: { path: DELIVERY, pathNot: TEST },
      to: { path: '^(db|infra|host|simulators)/' },
    },
    {
      name: 'roles-stay-apart',
      comment: 'Process roles share code through domain/, never through each other.',
      severity: 'error',
      from: { path: DELIVERY, pathNot: TEST },
      to: { path: DELIVERY, pathNot: '^$1/' },
    },
    {
      name: 'sql-only-in-db',
      comment: 'Query builders and drivers are used in db/ only (the simulator keeps its own storage).',
      severity: 'error',
      from: { path: '^(domain|api|workers|realtime|infra|host)/', pathNot: TEST },
      to: { path: 'node_modules/(knex|pg)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'simulator-only-from-the-role-map',
      comment: 'The stand-in card processor is a separate system: only host/roles.ts starts it.',
      severity: 'error',
      from: { pathNot: `^(simulators/|host/roles\\.ts$)|${TEST}` },
      to: { path: '^simulators/' },
    },
    {
      name: 'simulator-stands-alone',
      comment: 'The simulator shares the HTTP toolkit (api/http) and nothing of the booking system.',
      severity: 'error',
      from: { path: '^simulators/', pathNot: TEST },
      to: { path: '^(domain|db|infra|host|workers|realtime|scripts|api/(?!http/))' },
    },
    {
      name: 'no-entry-point-imports',
      comment: 'Entry points are started, never imported.',
      severity: 'error',
      from: {},
      to: { path: ENTRY_POINTS },
    },
    {
      name: 'not-to-test',
      comment: 'Production code never imports tests or the test harness.',
      severity: 'error',
      from: { pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'Production code runs with `npm ci --omit=dev`: it may not import a devDependency.',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: [TEST, SOAK] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-orphans',
      comment: 'A module with no imports in or out is dead code, unless something starts it.',
      severity: 'error',
      from: { orphan: true, pathNot: [TEST, ENTRY_POINTS] },
      to: {},
    },
    {
      name: 'reachable-from-an-entry-point',
      comment: 'Production code that no entry point reaches (only tests, or nothing) is dead code.',
      severity: 'error',
      from: { path: ENTRY_POINTS },
      to: { path: PRODUCTION, pathNot: [TEST, ENTRY_POINTS], reachable: false },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: '^(api|workers|realtime|db|domain|infra|host|simulators|scripts|test|node_modules)/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
