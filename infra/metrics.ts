import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ORDER_TRANSITIONS, type DecidedStatus } from '../domain/model/order-states.js';
import type { Logger, Metrics } from '../domain/ports.js';

/** The text GET /metrics answers with. */
export type Exposition = { contentType: string; render(): Promise<string> };

/**
 * The metrics of one process: what the domain and the delivery report (the Metrics port), what the
 * host plugs in to be read on each scrape, and the exposition (absent when metrics are off).
 */
export type ProcessMetrics = Metrics & {
  exposition: Exposition | undefined;
  /** Orders still queued in PostgreSQL, by partition (the workers role: the queue it drains); undefined unplugs. */
  watchQueueDepth(read: (() => Promise<ReadonlyMap<number, number>>) | undefined): void;
  /** Whether the payment client's circuit breaker is open (the workers role); undefined unplugs. */
  watchPaymentBreaker(isOpen: (() => boolean) | undefined): void;
  /** Sockets connected to this process (the realtime role); undefined unplugs. */
  watchConnectedSockets(count: (() => number) | undefined): void;
};

/**
 * Seconds. The fast path answers in well under a millisecond and a waiting POST in up to
 * MAX_DECISION_WAIT_SECONDS, so the buckets start finer and reach further than prom-client's defaults.
 */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const DECIDED_OUTCOMES = ORDER_TRANSITIONS.queued.filter((status): status is DecidedStatus => status !== 'cancelled');

/** When METRICS=false: nothing is counted, nothing exposed. */
const NO_METRICS: ProcessMetrics = {
  exposition: undefined,
  httpRequest() {},
  orderDecided() {},
  decisionPushed() {},
  watchQueueDepth() {},
  watchPaymentBreaker() {},
  watchConnectedSockets() {},
};

/**
 * Prometheus metrics on a registry of the process's own (never prom-client's global one: tests run
 * several systems in one process), every series labelled with the process's roles, plus
 * prom-client's default process and Node.js metrics.
 */
export function createMetrics(settings: { enabled: boolean; roles: readonly string[] }, log: Logger): ProcessMetrics {
  if (!settings.enabled) return NO_METRICS;
  const registry = new Registry();
  registry.setDefaultLabels({ role: settings.roles.join(',') });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status: arrival to the end of the answer (499: the client left first)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const decided = new Counter({
    name: 'orders_decided_total',
    help: 'Orders the allocation decided, by outcome (awaiting_payment: seats held; confirmed; rejected)',
    labelNames: ['outcome'] as const,
    registers,
  });
  // Every outcome from the start (at 0), so a rate over it exists before the first of its kind.
  const decidedBy = new Map(DECIDED_OUTCOMES.map((outcome) => [outcome, decided.labels(outcome)]));
  for (const counter of decidedBy.values()) counter.inc(0);
  const submitToDecision = new Histogram({
    name: 'order_submit_to_decision_seconds',
    help: "From an order's creation by the intake to the commit of its decision (observed by the deciding worker)",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'allocation_queue_wait_seconds',
    help: "From an order's creation to the start of the allocation batch that decided it",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const decisionToPush = new Histogram({
    name: 'order_decision_to_push_seconds',
    help: "From a decision's commit to its order:update on a subscriber's socket (observed by the realtime role)",
    buckets: LATENCY_BUCKETS,
    registers,
  });

  let readQueueDepth: (() => Promise<ReadonlyMap<number, number>>) | undefined;
  new Gauge({
    name: 'allocation_queue_depth',
    help: 'Orders queued in PostgreSQL and not decided yet, by allocation partition (read on each scrape by workers)',
    labelNames: ['partition'] as const,
    registers,
    async collect() {
      if (!readQueueDepth) return;
      try {
        const depths = await readQueueDepth();
        this.reset();
        for (const [partition, depth] of depths) this.set({ partition: String(partition) }, depth);
      } catch (error) {
        // A scrape still answers, without this gauge, while PostgreSQL is away (one line per scrape).
        this.reset();
        log.warn({ reason: (error as Error).message }, 'allocation queue depth not read for the metrics');
      }
    },
  });
  let breakerOpen: (() => boolean) | undefined;
  new Gauge({
    name: 'payment_breaker_open',
    help: "1 while the payment client's circuit breaker is open (payments wait for the service), else 0",
    registers,
    collect() {
      this.set(breakerOpen?.() ? 1 : 0);
    },
  });
  let connectedSockets: (() => number) | undefined;
  new Gauge({
    name: 'realtime_connected_sockets',
    help: 'Socket.IO clients connected to this process',
    registers,
    collect() {
      this.set(connectedSockets?.() ?? 0);
    },
  });

  // One child per label set, found by one string key: prom-client would hash the labels object on
  // every observation. Methods, routes and statuses are bounded sets, so the map stays small.
  const httpChildren = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>();

  return {
    exposition: { contentType: registry.contentType, render: () => registry.metrics() },
    httpRequest(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let child = httpChildren.get(key);
      if (!child) {
        child = httpDuration.labels(method, route, String(status));
        httpChildren.set(key, child);
      }
      child.observe(seconds);
    },
    orderDecided(outcome, waitedSeconds, tookSeconds) {
      decidedBy.get(outcome)?.inc();
      queueWait.observe(waitedSeconds);
      submitToDecision.observe(tookSeconds);
    },
    decisionPushed(seconds) {
      decisionToPush.observe(seconds);
    },
    watchQueueDepth(read) {
      readQueueDepth = read;
    },
    watchPaymentBreaker(isOpen) {
      breakerOpen = isOpen;
    },
    watchConnectedSockets(count) {
      connectedSockets = count;
    },
  };
}
