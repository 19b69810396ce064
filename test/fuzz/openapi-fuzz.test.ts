import { expect } from 'chai';
import { formatBreak, summary, type Break, type FuzzReport } from '../../scripts/fuzz/runner.js';
import { fuzzSeed, fuzzTestSystem } from './openapi-fuzz.js';

const CASES = Number(process.env.FUZZ_CASES ?? 2_000);

describe('OpenAPI fuzz', function () {
  this.timeout(120_000);
  const seed = fuzzSeed();
  let report: FuzzReport;

  before(async () => {
    report = await fuzzTestSystem({ cases: CASES, seed });
    if (process.env.FUZZ_VERBOSE) console.error(summary(report, 20));
    console.error(
      `      OpenAPI fuzz: seed ${seed} (FUZZ_SEED=${seed} replays it), ${report.cases} cases in ${report.durationMs} ms, ${report.breakCount} breaks`,
    );
  });

  const breaksOf = (problem: Break['problem']) => report.breaks.filter((item) => item.problem === problem);
  const listed = (items: Break[]) =>
    `seed ${seed}: ${items.length} of them (first ${Math.min(items.length, 5)}):\n${items.slice(0, 5).map(formatBreak).join('\n')}`;

  it('when the document is read, should send cases to every operation, guarded ones with and without their token', () => {
    expect(report.cases).to.equal(CASES);
    const untouched = Object.entries(report.routes).filter(([, route]) => route.cases === 0);
    expect(
      untouched.map(([key]) => key),
      summary(report, 0),
    ).to.deep.equal([]);
    expect(report.kinds['no-token'] ?? 0).to.be.greaterThan(0);
    expect(report.kinds.auth ?? 0).to.be.greaterThan(0);
  });

  it('when bad inputs are sent to any operation, should never answer 5xx', () => {
    const items = breaksOf('server error');
    expect(items, listed(items)).to.deep.equal([]);
  });

  it('when a request is refused, should answer with the error envelope {"error":{"code","message"}}', () => {
    const items = breaksOf('no error envelope');
    expect(items, listed(items)).to.deep.equal([]);
  });

  it('when bad inputs are sent, should answer each within a few seconds and never drop the connection', () => {
    const items = [...breaksOf('too slow'), ...breaksOf('no answer')];
    expect(items, listed(items)).to.deep.equal([]);
  });
});
