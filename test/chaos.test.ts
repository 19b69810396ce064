import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { runChaos } from '../scripts/soak/chaos-run.js';
import { CHECK_RULES } from '../scripts/soak/check-history.js';
import { ensureBuilt, nginxOrSkip } from './topology-support.js';

/** The run's own PostgreSQL cluster and Redis need their server binaries. */
function storesOrSkip(context: Mocha.Context): void {
  const initdb = `${process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'}/initdb`;
  const redis = spawnSync(process.env.REDIS_SERVER ?? 'redis-server', ['--version']);
  if (existsSync(initdb) && redis.status === 0) return;
  console.log(
    `    skipped: the chaos run needs ${initdb} and redis-server (apt-get install -y postgresql-15 redis-server)`,
  );
  context.skip();
}

describe('chaos under load, with a history checker', () => {
  it('when workers are killed, Redis and PostgreSQL restart and the payment provider fails under load, should count 0 for every checker rule and answer ≥ 99.9 % of requests', async function () {
    this.timeout(300_000);
    nginxOrSkip(this);
    storesOrSkip(this);
    ensureBuilt();
    const report = await runChaos({
      loadMs: 50_000,
      buyers: 6,
      watchers: 6,
      showings: 6,
      counts: { tickets: 2, catalog: 1, realtime: 1, workers: 2, payments: 1 },
      faults: {
        // The first kill comes within 25 s of the start, so the 50 s always have one.
        workerKillEveryMs: [15_000, 25_000],
        restartRoles: [],
        redisRestarts: 1,
        postgresRestarts: ['fast', 'immediate'],
        providerOutageMs: 8_000,
      },
      holdTtlSeconds: 10,
      reconcileWindowSeconds: 10,
      paymentTimeoutMs: 2_000,
      providerHangMs: 4_000,
      bucketMs: 5_000,
      log: () => {},
    });
    console.log(
      `      ${JSON.stringify({ faults: report.faults, check: report.check, availability: report.requests.availability, settledAfterSeconds: report.settledAfterSeconds })}`,
    );
    const faults = report.faults.map((fault) => fault.what);
    expect(faults).to.include.members([
      'Redis restarted (SIGTERM, AOF replayed)',
      'PostgreSQL restarted (-m fast)',
      'PostgreSQL restarted (-m immediate)',
    ]);
    expect(faults.some((what) => /^SIGKILL workers-\d, started again$/.test(what))).to.equal(true);
    expect(report.check.totals.ordersAccepted).to.be.above(0);
    expect(report.check.totals.confirmationsSeen).to.be.above(0);
    expect(report.check.counts).to.deep.equal(Object.fromEntries(CHECK_RULES.map((rule) => [rule, 0])));
    expect(report.requests.availability).to.be.at.least(0.999);
    expect(report.unexpectedExits).to.deep.equal([]);
    expect(report.notReadyAtEnd).to.deep.equal([]);
  });
});
