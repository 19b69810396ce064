import { percentile as nearestRank } from '../bench/load.js';
import { HTTP_OPERATIONS, type HttpOperation, type PairedOperation } from './history.js';

/**
 * What a history says about the service as its clients met it: the share of requests answered,
 * and latency per route, during the faults and outside them, over time.
 */

/** A fault from its first moment until the system had a few seconds to recover (ms since the history began). */
export type FaultWindow = { what: string; from: number; to: number };

export type RouteFigures = {
  requests: number;
  unanswered: number;
  /** Attempts that met a 502/503/504 or no answer, retried by the client or not. */
  failedAttempts: number;
  p99Ms: { all: number; duringFaults: number | null; outsideFaults: number | null };
};

export type TimelinePoint = { second: number; series: string; value: number };

/** The value at `share` (0.99: the p99) of unsorted values, in whole ms; null when there are none. */
const percentile = (values: number[], share: number) =>
  values.length === 0
    ? null
    : Math.round(
        nearestRank(
          [...values].sort((a, b) => a - b),
          share * 100,
        ),
      );

const isHttp = (operation: PairedOperation): operation is PairedOperation<HttpOperation> =>
  (HTTP_OPERATIONS as readonly string[]).includes(operation.f);

/**
 * Answered correctly: a final answer below 500 (a refusal such as 409 SEAT_TAKEN is a correct
 * answer). A 503 with Retry-After that the client retried into an answer counts as answered; a 5xx
 * after every retry, or no answer at all, does not.
 */
const wasAnswered = (operation: PairedOperation) => operation.answer?.http !== undefined && operation.answer.http < 500;

export function requestFigures(operations: PairedOperation[], faults: FaultWindow[], bucketMs: number) {
  const requests = operations.filter(isHttp).filter((operation) => operation.end !== undefined);
  const duringFault = (operation: PairedOperation) =>
    faults.some((fault) => operation.start < fault.to && operation.end! > fault.from);
  const latency = (operation: PairedOperation) => operation.end! - operation.start;
  const failedAttempts = (operation: PairedOperation) =>
    Math.max(0, (operation.answer?.attempts ?? 1) - (wasAnswered(operation) ? 1 : 0));

  const routes = {} as Record<HttpOperation, RouteFigures>;
  for (const route of HTTP_OPERATIONS) {
    const ofRoute = requests.filter((operation) => operation.f === route);
    routes[route] = {
      requests: ofRoute.length,
      unanswered: ofRoute.filter((operation) => !wasAnswered(operation)).length,
      failedAttempts: ofRoute.reduce((sum, operation) => sum + failedAttempts(operation), 0),
      p99Ms: {
        all: percentile(ofRoute.map(latency), 0.99) ?? 0,
        duringFaults: percentile(ofRoute.filter(duringFault).map(latency), 0.99),
        outsideFaults: percentile(ofRoute.filter((operation) => !duringFault(operation)).map(latency), 0.99),
      },
    };
  }

  // Per bucket of completion time: each route's p99 and its failed attempts.
  const buckets = new Map<string, number[]>();
  const failures = new Map<string, number>();
  for (const operation of requests) {
    const key = `${Math.floor(operation.end! / bucketMs)}|${operation.f}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(latency(operation));
    else buckets.set(key, [latency(operation)]);
    failures.set(key, (failures.get(key) ?? 0) + failedAttempts(operation));
  }
  const point = (key: string, value: number): TimelinePoint => {
    const [bucket, series] = key.split('|');
    return { second: ((Number(bucket) + 1) * bucketMs) / 1000, series: series!, value };
  };
  const byTime = (a: TimelinePoint, b: TimelinePoint) => a.second - b.second;
  const answered = requests.filter(wasAnswered).length;
  return {
    requests: requests.length,
    answered,
    availability: requests.length === 0 ? 1 : answered / requests.length,
    retried: requests.filter((operation) => (operation.answer?.attempts ?? 1) > 1).length,
    routes,
    timeline: {
      p99Ms: [...buckets].map(([key, values]) => point(key, percentile(values, 0.99)!)).sort(byTime),
      failedAttempts: [...failures].map(([key, count]) => point(key, count)).sort(byTime),
    },
  };
}

export type RequestFigures = ReturnType<typeof requestFigures>;
