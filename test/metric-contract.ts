/**
 * The series every process exposes at /metrics, by type: the production topology's contract with its
 * dashboards and alerts. Checked against the processes (test/operability.test.ts) and against the
 * Grafana dashboard (test/deploy/compose.test.ts); written out here, not read from infra/metrics.ts,
 * so that renaming a series there fails both.
 */
export const CONTRACT_METRICS: Record<string, string> = {
  http_request_duration_seconds: 'histogram',
  orders_decided_total: 'counter',
  order_submit_to_decision_seconds: 'histogram',
  order_decision_to_push_seconds: 'histogram',
  allocation_queue_depth: 'gauge',
  allocation_queue_wait_seconds: 'histogram',
  payment_breaker_open: 'gauge',
  realtime_connected_sockets: 'gauge',
};
