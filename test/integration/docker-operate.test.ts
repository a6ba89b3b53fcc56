// `norn logs`, `norn scale` and `norn restart` end to end on the real Docker engine (host networking): a push
// deploys the app, then the CLI reads its output (masked, escaped, prefixed by instance), scales it up and down
// through the health gate, restarts it one instance at a time, and a restart that breaks an instance stops the
// roll and names it. Needs `bash test/support/start-services.sh` (dockerd and norn-base:latest).
import { expect } from 'chai';
import { logsCommand } from '../../src/cli/logs-command.js';
import { restartCommandWith, scaleCommandWith } from '../../src/cli/operation-commands.js';
import { captureIo } from '../fakes/capture-io.js';
import { startDockerAppService, type DockerAppService } from '../support/docker-app-service.js';
import { answerAt, appContainers, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import { eventually, type TestService } from '../support/test-service.js';

interface Instance {
  process: string;
  id: string;
  address: string | null;
  state: string;
  healthy: boolean | null;
}

interface SagaEvent {
  action: string;
  message: string;
  metadata: Record<string, unknown>;
}

const API_TOKEN = `tok-${nonce()}-configured-secret`;

describe('logs, scale and restart on the Docker runtime (real engine)', function () {
  this.timeout(300_000);
  const app = `ops-${nonce()}`;
  let rig: DockerAppService | undefined;
  let svc: TestService;
  const env = () => ({ NORN_URL: svc.url, NORN_API_TOKEN: API_TOKEN });
  const scale = scaleCommandWith({ pollMs: 100 });
  const restart = restartCommandWith({ pollMs: 100 });

  const deploy = async (files: Record<string, string>) => {
    await rig!.deploy(files);
  };
  const instances = async () => (await (await svc.api(`/api/apps/${app}/instances`)).json()) as Instance[];
  const sagaEvents = async (id: string) => ((await (await svc.api(`/api/sagas/${id}`)).json()) as { events: SagaEvent[] }).events;

  before(async () => {
    rig = await startDockerAppService(app, {
      gate: { minHealthySeconds: 1, healthyDeadlineSeconds: 20 },
      env: { NORN_API_TOKEN: API_TOKEN },
      spec: (repoUrl) => {
        const spec = webAppSpec(app, repoUrl);
        const web = (spec.processes as { web: Record<string, unknown> }).web;
        // The app prints a value that is also a receiver secret, an escape sequence, and a line on stderr. On a
        // restart it refuses to start twice when the image carries www/fail-on-restart.
        web.command = [
          'echo "hello from $HOSTNAME token=$LEAK"',
          "printf 'ctl \\033[2J end\\n'",
          'echo "warning on stderr" >&2',
          'if [ -f /tmp/started ] && [ -f /www/fail-on-restart ]; then echo "refusing to start twice" >&2; exit 3; fi',
          'touch /tmp/started',
          'exec httpd -f -p "$PORT" -h /www',
        ].join('; ');
        return { ...spec, env: { LEAK: API_TOKEN } };
      },
    });
    svc = rig.svc;
    await deploy(webAppFiles('v1'));
  });
  after(async () => {
    await rig?.close();
  });

  it('prints each instance\'s output prefixed by instance, with secrets masked and control characters escaped', async () => {
    const [web] = await instances();
    const cap = captureIo();
    const code = await logsCommand([app], env(), cap.io);
    expect(code, cap.err()).to.equal(0);
    const prefix = `web/${web!.id}`;
    expect(cap.out()).to.contain(`${prefix} hello from`);
    expect(cap.out()).to.contain('token=***');
    expect(cap.out()).not.to.contain(API_TOKEN);
    expect(cap.out()).to.contain(`${prefix} ctl \\u001b[2J end`);
    expect(cap.out()).not.to.contain('\u001b');
    expect(cap.err()).to.contain(`${prefix} warning on stderr`);

    // One instance's last lines (the route `norn status` links) are masked too.
    const one = await (await svc.api(`/api/apps/${app}/instances/${web!.id}/logs?tail=10`)).text();
    expect(one).to.contain('token=***').and.not.contain(API_TOKEN);

    const since = captureIo();
    expect(await logsCommand([app, 'web', '--since', '10m', '--json'], env(), since.io)).to.equal(0);
    const records = since.lines().map((l) => JSON.parse(l) as { process: string; instance: string; stream: string; text: string });
    expect(records).to.deep.include({ process: 'web', instance: web!.id, stream: 'stderr', text: 'warning on stderr' });
  });

  it('refuses a bad request before it starts anything, naming the field', async () => {
    const badSince = await svc.api(`/api/apps/${app}/logs?since=yesterday`);
    expect(badSince.status).to.equal(400);
    expect(((await badSince.json()) as { error: string }).error).to.match(/^since: /);
    for (const [body, field] of [
      [{ process: 'nope', count: 2 }, 'process'],
      [{ process: 'web', count: 0 }, 'count'],
      [{ process: 'web', count: 2.5 }, 'count'],
      [{ process: 'web', count: 51 }, 'count'],
    ] as const) {
      const res = await svc.api(`/api/apps/${app}/scale`, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(((await res.json()) as { field: string }).field).to.equal(field);
    }
    const cap = captureIo();
    expect(await scaleCommandWith({ confirmer: { isInteractive: false, ask: async () => '' } })([app, 'web', '2'], env(), cap.io)).to.equal(1);
    expect(cap.err()).to.contain('repeat with --yes');
    expect(await instances()).to.have.length(1);
  });

  it('follows the output until the client goes away, and then closes the engine\'s log streams', async () => {
    // Every log stream the runtime opens on the engine is recorded, to see that none outlives the client.
    const runtime = (await svc.service.runtime.current()) as unknown as { deps: { containers: { logStream: (...args: unknown[]) => Promise<unknown> } } };
    const containers = runtime.deps.containers;
    const original = containers.logStream.bind(containers);
    const opened: { destroyed: boolean }[] = [];
    containers.logStream = async (...args: unknown[]) => {
      const stream = await original(...args);
      opened.push(stream as { destroyed: boolean });
      return stream;
    };
    const abort = new AbortController();
    const res = await fetch(`${svc.url}/api/apps/${app}/logs?follow=true&tail=1`, { headers: svc.authHeaders, signal: abort.signal });
    expect(res.status).to.equal(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first.split('\n')[0]!)).to.include({ process: 'web' });
    abort.abort();
    await reader.cancel().catch(() => undefined);
    expect(opened).to.have.length(1);
    await eventually('the engine stream to be closed', async () => (opened.every((s) => s.destroyed) ? true : undefined));
    containers.logStream = original;
    // The receiver still answers, and a later follow works as well: nothing was left stuck behind the first.
    const again = captureIo();
    expect(await logsCommand([app, '--tail', '2'], env(), again.io)).to.equal(0);
  });

  it('scales up through the health gate, scales down, and restarts one instance at a time', async () => {
    const up = captureIo();
    expect(await scale([app, 'web', '3', '--yes'], env(), up.io), up.err()).to.equal(0);
    expect(up.out()).to.match(/web scaled from 1 to 3/);
    let running = await instances();
    expect(running.map((i) => [i.state, i.healthy])).to.deep.equal([['running', true], ['running', true], ['running', true]]);
    for (const i of running) expect(await answerAt(i.address!)).to.equal('v1');

    const down = captureIo();
    expect(await scale([app, 'web', '2', '--yes'], env(), down.io), down.err()).to.equal(0);
    expect(down.out()).to.match(/web scaled from 3 to 2/);
    running = await instances();
    expect(running).to.have.length(2);

    const docker = rawDocker();
    const startedAt = async (id: string) => (await docker.getContainer(id).inspect()).State.StartedAt;
    const before = await Promise.all(running.map((i) => startedAt(i.id)));
    const cap = captureIo();
    expect(await restart([app, '--yes'], env(), cap.io), cap.err()).to.equal(0);
    expect(cap.out()).to.match(/restarting .* \(1\/2\)[\s\S]*is healthy again[\s\S]*restarting .* \(2\/2\)[\s\S]*restarted 2 instance\(s\)/);
    const after = await instances();
    expect(after.map((i) => i.id), 'restarted in place').to.deep.equal(running.map((i) => i.id));
    const restartedAt = await Promise.all(after.map((i) => startedAt(i.id)));
    restartedAt.forEach((at, k) => expect(at, `instance ${k} started again`).not.to.equal(before[k]));
    expect(after.every((i) => i.healthy)).to.equal(true);
  });

  it('refuses a second operation while one runs', async () => {
    const first = await svc.api(`/api/apps/${app}/restart`, { method: 'POST', body: '{}' });
    expect(first.status).to.equal(202);
    const { sagaId } = (await first.json()) as { sagaId: string };
    const second = await svc.api(`/api/apps/${app}/scale`, { method: 'POST', body: JSON.stringify({ process: 'web', count: 1 }) });
    expect(second.status).to.equal(409);
    expect(((await second.json()) as { error: string }).error).to.match(/another scale or restart/);
    await eventually('the first restart to end', async () => ((await sagaEvents(sagaId)).some((e) => e.action === 'operation.complete') ? true : undefined), 60_000);
  });

  it('keeps the scaled count across a deploy, and stops a restart at the first instance that does not come back, naming it', async () => {
    // The next deploy keeps the count set with `norn scale` (2), not the spec's 1.
    await deploy({ ...webAppFiles('v2'), 'www/fail-on-restart': 'yes\n' });
    const running = await instances();
    expect(running.map((i) => i.healthy)).to.deep.equal([true, true]);
    const startedAt = async (id: string) => (await rawDocker().getContainer(id).inspect()).State.StartedAt;
    const secondBefore = await startedAt(running[1]!.id);

    const cap = captureIo();
    expect(await restart([app, 'web', '--yes'], env(), cap.io)).to.equal(1);
    const failedName = (await appContainers(app)).find((c) => c.Id.startsWith(running[0]!.id))!.Names[0]!.replace(/^\//, '');
    expect(cap.err()).to.contain(`restart failed: web instance ${failedName}:`);
    expect(cap.err()).to.match(/exited with code 3|restarted \d+ time/);
    expect(cap.err()).to.contain('1 instance(s) after it were not restarted');
    expect(cap.err()).to.contain('refusing to start twice');
    expect(await startedAt(running[1]!.id), 'the second instance was not touched').to.equal(secondBefore);
    expect(await answerAt(running[1]!.address!)).to.equal('v2');
  });
});
