import { join } from 'node:path';

/** The roles nginx routes to; `workers` has no routes, `payments` only an internal listen. */
export type Upstreams = { tickets: number[]; catalog: number[]; realtime: number[]; payments: number[] };

export type NginxPlan = {
  /** Every file nginx writes (pid, logs, temp files) lives under this directory. */
  runDir: string;
  listen: { host: string; port: number };
  /** Ports of the instances of each role, all on 127.0.0.1. */
  upstreams: Upstreams;
  /** The loopback port where the workers reach the payments upstream; absent when they call the instance directly. */
  internalPaymentsPort?: number;
  workerProcesses: number | 'auto';
};

export const nginxFiles = (runDir: string) => ({
  config: join(runDir, 'nginx.conf'),
  pid: join(runDir, 'nginx.pid'),
  accessLog: join(runDir, 'logs', 'nginx-access.log'),
  errorLog: join(runDir, 'logs', 'nginx-error.log'),
  temp: join(runDir, 'nginx-temp'),
});

/** Requests up to this size stay in memory (the API's own JSON limit), so nginx never writes a body to disk. */
const BODY_LIMIT = '1m';
/**
 * Not http_503: an instance answers 503 when a store it shares with every other instance is away,
 * so the next would answer the same, and nginx counts every retried status as a failure: during a
 * 0.4 s PostgreSQL restart, three 503s took both catalog instances out for fail_timeout, and the
 * entry answered 502 for 10 s (docs/chaos.md). The client gets the 503 with its Retry-After instead.
 */
const RETRYABLE = 'error timeout http_502 http_504';
/** Longer than the longest `Prefer: wait=N` the API accepts (MAX_DECISION_WAIT_SECONDS ≤ 60). */
const API_READ_TIMEOUT = '75s';

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** The headers every proxied request carries; a location that sets any must set them all (nginx does not merge). */
function proxyHeaders(connection: string): string[] {
  return [
    'proxy_http_version 1.1;',
    `proxy_set_header Connection ${connection};`,
    'proxy_set_header Host $host;',
    'proxy_set_header X-Request-Id $topology_request_id;',
    // nginx is the edge: what a client claims in its own X-Forwarded-For is not passed on.
    'proxy_set_header X-Forwarded-For $remote_addr;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $http_host;',
  ];
}

/**
 * Passive health for request upstreams: three failures within 10 s leave an instance out for 10 s.
 * Not for websockets: nginx clears a server's failures only when a connection to it is freed, which
 * for a websocket is when it closes, hours later; after a rolling restart both realtime instances
 * stayed "down" and every reconnect got 502 for as long as the run lasted. Without it, a refused
 * connection simply goes to the next instance.
 */
const PASSIVE_HEALTH = 'max_fails=3 fail_timeout=10s';
const NO_PASSIVE_HEALTH = 'max_fails=0';

function upstream(name: string, ports: number[], health = PASSIVE_HEALTH): string[] {
  return [
    `upstream ${name} {`,
    ...ports.map((port) => `    server 127.0.0.1:${port} ${health};`),
    '    keepalive 32;',
    // Shorter than the instances' keep-alive (65 s), so nginx never reuses a connection the instance is closing.
    '    keepalive_timeout 60s;',
    '    keepalive_requests 10000;',
    '}',
  ];
}

const block = (head: string, lines: string[]) => [`${head} {`, ...lines.map((line) => `    ${line}`), '}'];

/**
 * The nginx configuration of one run: the public entry (routing as the deployment contract says)
 * and, with several payment simulators, an internal loopback listen in front of them. Every path
 * is inside the run directory, so it runs as root or not without touching /etc/nginx or /var.
 */
export function nginxConfig(plan: NginxPlan): string {
  const files = nginxFiles(plan.runDir);
  const { upstreams } = plan;
  const temp = (name: string) => quote(join(files.temp, name));

  const publicServer = block('server', [
    // reuseport: one listening socket per worker, so the kernel spreads connections evenly over the
    // workers (without it one worker may take most of them and run out of connections alone).
    `listen ${plan.listen.host}:${plan.listen.port} backlog=4096 reuseport;`,
    'server_name _;',
    ...proxyHeaders('""'),
    // The instances do not set it today; should one start to, the client still gets a single value.
    'proxy_hide_header X-Request-Id;',
    'add_header X-Request-Id $topology_request_id always;',
    'proxy_connect_timeout 2s;',
    `proxy_read_timeout ${API_READ_TIMEOUT};`,
    // Reads may go to the next instance; nginx never resends a POST that reached an instance unless
    // its location says non_idempotent (only the order submit, which carries an Idempotency-Key).
    `proxy_next_upstream ${RETRYABLE};`,
    '',
    ...block('location = /nginx-health', ['access_log off;', 'default_type text/plain;', 'return 200 "ok\\n";']),
    // Probes and scrapes go to each instance directly. Regex and case-insensitive because express
    // matches /Metrics and /metrics/ too.
    ...block('location ~* ^/+(metrics|healthz|readyz)/*$', ['return 404;']),
    // A submit that failed on one instance is answered by the next: the retried request carries the
    // same Idempotency-Key, so it finds the order the first attempt created instead of making another.
    ...block('location = /api/v1/orders', [
      `proxy_next_upstream ${RETRYABLE} non_idempotent;`,
      'proxy_pass http://topology_tickets;',
    ]),
    // Payment and cancellation POSTs are here: not resent to another instance once sent.
    ...block('location /api/v1/orders/', ['proxy_pass http://topology_tickets;']),
    ...block('location /socket.io/', [
      ...proxyHeaders('$topology_connection_upgrade'),
      'proxy_set_header Upgrade $http_upgrade;',
      // A websocket lives for hours; Socket.IO's own pings tell a dead peer.
      'proxy_read_timeout 1h;',
      'proxy_send_timeout 1h;',
      'proxy_pass http://topology_realtime;',
    ]),
    ...block('location /', ['proxy_pass http://topology_catalog;']),
  ]);

  const paymentsServer =
    plan.internalPaymentsPort === undefined
      ? []
      : block('server', [
          `listen 127.0.0.1:${plan.internalPaymentsPort};`,
          'server_name _;',
          ...proxyHeaders('""'),
          'proxy_connect_timeout 2s;',
          'proxy_read_timeout 60s;',
          // Only an instance that is down is skipped: the simulator's injected 503s and hangs must reach
          // the payment client as a real processor's would, and its POSTs are never resent.
          'proxy_next_upstream error;',
          ...block('location /', ['proxy_pass http://topology_payments;']),
        ]);

  const http = block('http', [
    `client_body_temp_path ${temp('client_body')};`,
    `proxy_temp_path ${temp('proxy')};`,
    `fastcgi_temp_path ${temp('fastcgi')};`,
    `uwsgi_temp_path ${temp('uwsgi')};`,
    `scgi_temp_path ${temp('scgi')};`,
    // Bodies and responses stay in memory: no temp file, whoever owns the run directory.
    `client_max_body_size ${BODY_LIMIT};`,
    `client_body_buffer_size ${BODY_LIMIT};`,
    'proxy_max_temp_file_size 0;',
    'server_tokens off;',
    'default_type application/octet-stream;',
    'tcp_nodelay on;',
    'keepalive_timeout 65s;',
    'keepalive_requests 10000;',
    '',
    // The client's request id when it is one the instances keep too (api/http/front-door.ts), else nginx's own.
    ...block('map $http_x_request_id $topology_request_id', [
      'default $request_id;',
      '"~^[A-Za-z0-9._:-]{1,128}$" $http_x_request_id;',
    ]),
    ...block('map $http_upgrade $topology_connection_upgrade', ['default upgrade;', '"" "";']),
    'log_format topology escape=json',
    `    '{"time":"$time_iso8601","request_id":"$topology_request_id","remote_addr":"$remote_addr",'`,
    // The path without its query: a poll's query carries the order's access token.
    `    '"port":"$server_port","method":"$request_method","path":"$uri","status":$status,'`,
    `    '"bytes":$body_bytes_sent,"request_time":$request_time,"upstream":"$upstream_addr",'`,
    `    '"upstream_status":"$upstream_status","upstream_connect_time":"$upstream_connect_time",'`,
    `    '"upstream_response_time":"$upstream_response_time"}';`,
    `access_log ${quote(files.accessLog)} topology;`,
    '',
    ...upstream('topology_tickets', upstreams.tickets),
    ...upstream('topology_catalog', upstreams.catalog),
    ...upstream('topology_realtime', upstreams.realtime, NO_PASSIVE_HEALTH),
    ...(plan.internalPaymentsPort === undefined ? [] : upstream('topology_payments', upstreams.payments)),
    '',
    ...publicServer,
    ...paymentsServer,
  ]);

  return [
    `# Written by scripts/topology for the run in ${plan.runDir}; each run writes its own.`,
    `worker_processes ${plan.workerProcesses};`,
    `pid ${quote(files.pid)};`,
    `error_log ${quote(files.errorLog)} warn;`,
    // A websocket holds two connections (the client's and the instance's) for as long as it lives: 10,000
    // connected users need over 20,000, more than one worker may open under a usual limit of open files
    // (20,000 here), so such a run takes several workers (--nginx-workers); see listen ... reuseport.
    ...block('events', ['worker_connections 16384;']),
    ...http,
    '',
  ].join('\n');
}
