import { expect } from 'chai';
import { dropDatabase } from '../db/connection.js';
import { artillerySoak, type ArtillerySoakReport } from '../scripts/soak/artillery/soak.js';
import { ensureBuilt, nginxOrSkip, topologyEnvironment } from './topology-support.js';

describe('the artillery soak, short: a few hundred connected users through nginx', () => {
  let report: ArtillerySoakReport | undefined;
  let databaseUrl: string | undefined;

  before(async function () {
    this.timeout(300_000);
    nginxOrSkip(this);
    ensureBuilt();
    const env = await topologyEnvironment();
    // A database of its own beside the test run's: the soak recreates and seeds it.
    databaseUrl = `${env.DATABASE_URL}_artillery`;
    report = await artillerySoak({
      users: 300,
      rampSeconds: 15,
      holdSeconds: 30,
      rampDownSeconds: 5,
      pace: 0.15,
      baselineSeconds: 0,
      catalog: { cities: 4, cinemas: 8, hallsPerCinema: 2, days: 2 },
      counts: { tickets: 2, catalog: 1, realtime: 2, workers: 1, payments: 1 },
      databaseUrl,
      redisPrefix: `${env.REDIS_PREFIX}-artillery`,
      env,
      log: () => {},
    });
    const { series: _series, ...figures } = report;
    console.log(`      ${JSON.stringify(figures)}`);
  });

  after(async function () {
    this.timeout(30_000);
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  it("when the users ramp up, stay and leave, should meet artillery's ensure: p99 < 500 ms on every route and from submit to push, < 0.1 % failed", () => {
    expect(report!.checks).to.have.length(8);
    expect(report!.checks.filter((check) => !check.passed)).to.deep.equal([]);
    expect(report!.errorRate).to.be.below(0.001);
  });

  it('when the users hold, should keep every one of them connected over Socket.IO', () => {
    expect(report!.users.arrived).to.equal(300);
    expect(report!.users.failed).to.equal(0);
    expect(report!.users.connectedThroughHold).to.equal(300);
  });

  it('when the users buy, should push decisions and payments over Socket.IO and see every way out of a hold', () => {
    const { counters, latencyMs } = report!;
    expect(latencyMs.submitToPush?.count).to.be.above(100);
    expect(latencyMs.paymentToPush?.count).to.be.above(0);
    expect(counters['cinema.outcomes.confirmed']).to.be.above(0);
    expect(counters['cinema.outcomes.cancelled']).to.be.above(0);
    expect(counters['cinema.outcomes.left_to_expire']).to.be.above(0);
  });

  it('when the load has stopped, should find every accepted order stored and decided and no seat sold twice', () => {
    const { database } = report!;
    expect(database.orders.accepted).to.be.above(100);
    expect(database.orders).to.include({ lost: 0, undecided: 0 });
    expect(database.doubleSoldSeats).to.equal(0);
    expect(report!.passed, report!.failedChecks.join('; ')).to.equal(true);
  });
});
