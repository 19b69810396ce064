import { expect } from 'chai';
import { once } from 'node:events';
import { spawnProcess } from './system.js';

describe('process lifecycle', () => {
  it('when a process running every role gets SIGTERM, should stop its workers, close its stores and exit 0', async () => {
    const child = await spawnProcess('catalog,tickets,workers', 'allocation workers started');
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(5_000);
  });

  it('when the configuration is invalid, should exit 78 naming every bad setting', async () => {
    let failure: Error | undefined;
    try {
      await spawnProcess('catalog', 'listening', { PORT: 'not-a-port', ROLES: 'catalog,unknown' });
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message).to.include('exited (78)');
    expect(failure?.message).to.include('PORT');
    expect(failure?.message).to.include('ROLES');
  });
});
