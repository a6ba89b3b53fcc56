// The Docker runtime's health gate against a real HTTP server on loopback, with the container's state scripted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { PlannedProcess } from '../../../../src/app-plan/plan-app.js';
import type { ContainerState } from '../../../../src/integrations/docker/docker-containers.js';
import { gateInstance } from '../../../../src/runtime/docker/health-gate.js';

const running: ContainerState = { status: 'running', running: true, exitCode: 0, restartCount: 0, error: '' };

function proc(health?: PlannedProcess['health']): PlannedProcess {
  return { name: 'web', kind: 'service', count: 1, env: {}, port: 8080, cpuMhz: 100, memoryMb: 128, drain: { signal: 'SIGTERM' }, ...(health ? { health } : {}) };
}

describe('the Docker health gate', () => {
  let server: http.Server;
  let address: string;
  let answer = { status: 200, body: 'ok' };
  before(async () => {
    server = http.createServer((_req, res) => res.writeHead(answer.status).end(answer.body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const opts = (state: () => ContainerState | undefined, deadlineMs = 3000) => ({
    minHealthyMs: 300,
    deadline: Date.now() + deadlineMs,
    signal: new AbortController().signal,
    state: async () => state(),
  });

  it('passes once the check has passed for the minimum healthy time', async () => {
    answer = { status: 200, body: 'ok' };
    const started = Date.now();
    const outcome = await gateInstance({ id: 'c1', process: 'web', address }, proc({ path: '/health', intervalMs: 100, timeoutMs: 500 }), opts(() => running));
    expect(outcome).to.deep.equal({ ok: true });
    expect(Date.now() - started).to.be.at.least(300);
  });

  it('fails at the deadline with what the check last answered', async () => {
    answer = { status: 503, body: 'database not ready' };
    const outcome = await gateInstance({ id: 'c1', process: 'web', address }, proc({ path: '/health', intervalMs: 100, timeoutMs: 500 }), opts(() => running, 600));
    expect(outcome).to.deep.equal({ ok: false, exited: false, lastAnswer: 'GET /health answered 503: database not ready' });
  });

  it('fails at once when the instance exits or restarts, saying how', async () => {
    const exited = await gateInstance({ id: 'c1', process: 'web', address }, proc(), opts(() => ({ ...running, status: 'exited', running: false, exitCode: 2 })));
    expect(exited).to.include({ ok: false, exited: true });
    expect((exited as { lastAnswer: string }).lastAnswer).to.match(/^it exited with code 2/);
    const restarted = await gateInstance({ id: 'c1', process: 'web', address }, proc(), opts(() => ({ ...running, restartCount: 1 })));
    expect((restarted as { lastAnswer: string }).lastAnswer).to.match(/^it restarted 1 time/);
  });

  it('gates a process without a port on staying up, and one without a check on accepting connections', async () => {
    const noPort = { ...proc(), port: undefined };
    expect(await gateInstance({ id: 'c1', process: 'worker' }, noPort, opts(() => running))).to.deep.equal({ ok: true });
    const closed = await gateInstance({ id: 'c1', process: 'web', address: '127.0.0.1:1' }, proc(), opts(() => running, 500));
    expect(closed).to.deep.equal({ ok: false, exited: false, lastAnswer: 'port 127.0.0.1:1: ECONNREFUSED' });
  });
});
