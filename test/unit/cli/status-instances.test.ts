import { expect } from 'chai';
import { appStatus } from '../../../src/cli/app-render.js';

const app = { name: 'hello', file: 'apps/hello/infraspec.yaml', spec: {}, currentImage: 'hello:abc', running: null, deploys: [] };

describe('norn status: instances', () => {
  it('lists each instance with the address to curl, its state, health and commit', () => {
    const lines = appStatus(app, [
      { process: 'web', id: '3f2a9c1d7e6b5a4c', address: '127.0.0.1:32768', image: 'hello:abc', commitSha: 'a'.repeat(40), state: 'running', healthy: true },
      { process: 'worker', id: '9e8d7c6b5a4f', address: null, image: 'hello:abc', commitSha: null, state: 'restarting', healthy: false },
    ]);
    expect(lines).to.include('    web  3f2a9c1d7e6b  http://127.0.0.1:32768  running healthy aaaaaaaaaaaa  hello:abc');
    expect(lines).to.include('    worker  9e8d7c6b5a4f  (no port)  restarting unhealthy  hello:abc');
  });

  it('says when nothing runs', () => {
    expect(appStatus(app, [])).to.include('  instances: none running');
  });
});
