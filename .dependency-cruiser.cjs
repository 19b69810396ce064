/**
 * The dependency rules of the architecture: api | workers | realtime → domain → db.
 * Only db/ talks SQL; nothing imports an entry point; tests may reach anything.
 */
module.exports = {
  forbidden: [
    {
      name: 'db-is-the-bottom',
      comment: 'db/ holds SQL and connections only; it must not know the domain or the delivery layers.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(domain|api|workers|realtime|scripts)/' },
    },
    {
      name: 'domain-knows-no-delivery',
      comment: 'Use cases do not know HTTP, queues consumers or sockets.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(api|workers|realtime|scripts)/' },
    },
    {
      name: 'sql-only-in-db',
      comment: 'Query builders and drivers are used in db/ only.',
      severity: 'error',
      from: { path: '^(domain|api|workers|realtime)/', pathNot: '\\.test\\.ts$' },
      to: { path: 'node_modules/(knex|pg)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'roles-stay-apart',
      comment: 'Process roles share code through domain/ and db/, never through each other.',
      severity: 'error',
      from: { path: '^(api|workers|realtime)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(api|workers|realtime)/', pathNot: '^$1/' },
    },
    {
      name: 'no-entry-point-imports',
      comment: 'Entry points are started, never imported.',
      severity: 'error',
      from: {},
      to: { path: '^scripts/(start|seed)\\.ts$' },
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
    includeOnly: '^(api|workers|realtime|db|domain|scripts|node_modules)/',
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
