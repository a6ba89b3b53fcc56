// `norn logs`, `norn scale` and `norn restart` end to end on the Nomad runtime, against the Nomad simulator's
// alloc logs, job scale and allocation restart APIs (docs/nomad-api.md section 7): a push deploys the job, then
// the CLI reads and follows the tasks' output (and the simulator's log follower is gone once the client is), scales
// the task group through a new job version, restarts allocations one at a time, and stops at one that breaks.
import { expect } from 'chai';
import { logsCommand } from '../../src/cli/logs-command.js';
import { restartCommandWith, scaleCommandWith } from '../../src/cli/operation-commands.js';
import type { NomadAllocation } from '../../src/integrations/nomad/nomad-types.js';
import { captureIo } from '../fakes/capture-io.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { nonce } from '../support/docker-fixture.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const API_TOKEN = `tok-${nonce()}-configured-secret`;

describe('logs, scale and restart on the Nomad runtime (simulator)', function () {
  this.timeout(120_000);
  const app = `nops-${nonce()}`;
  let repo: TestRepo;
  let svc: TestService;
  const env = () => ({ NORN_URL: svc.url, NORN_API_TOKEN: API_TOKEN });
  const scale = scaleCommandWith({ pollMs: 50 });
  const restart = restartCommandWith({ pollMs: 50 });
  const running = (): NomadAllocation[] => svc.nomad.allocations(app).filter((a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running').sort((a, b) => a.Name.localeCompare(b.Name));

  const push = async () => {
    const sha = repo.commit({ 'README.md': `${nonce()}\n` });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    expect(res.status).to.equal(202);
    return (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
  };
  const ended = (sagaId: string) =>
    eventually(`deploy ${sagaId} to end`, async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null } };
      return ['queued', 'running'].includes(s.saga.status) ? undefined : s.saga;
    }, 60_000);

  before(async () => {
    repo = createTestRepo(app);
    svc = await startTestService({
      env: { NORN_API_TOKEN: API_TOKEN, NORN_DOCKER_MIN_HEALTHY_SECONDS: '1', NORN_HEALTHY_DEADLINE_SECONDS: '10' },
      specs: { [app]: { ...specFor(app, repo.url), processes: { web: { port: 8080, health: { path: '/health' } }, nightly: { schedule: '0 3 * * *', command: 'true' } } } },
    });
    const saga = await ended(await push());
    expect(saga.status, saga.error ?? '').to.equal('succeeded');
    expect(running()).to.have.length(1);
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('prints the tasks\' output prefixed by allocation, masked and escaped, and refuses --since', async () => {
    const [alloc] = running();
    svc.nomad.writeLog(alloc!.ID, 'web', 'stdout', `token=${API_TOKEN}\nctl \u001b[2J end\n`);
    svc.nomad.writeLog(alloc!.ID, 'web', 'stderr', 'warning on stderr\n');
    const cap = captureIo();
    expect(await logsCommand([app, 'web'], env(), cap.io), cap.err()).to.equal(0);
    const prefix = `web/${alloc!.ID.slice(0, 8)}`;
    expect(cap.out()).to.contain(`${prefix} web started (image registry.example/app:1)`);
    expect(cap.out()).to.contain(`${prefix} token=***`);
    expect(cap.out()).to.contain(`${prefix} ctl \\u001b[2J end`);
    expect(cap.out()).not.to.contain(API_TOKEN);
    expect(cap.err()).to.contain(`${prefix} warning on stderr`);
    const logsCall = svc.nomad.requests.find((r) => r.path === `/v1/client/fs/logs/${alloc!.ID}`);
    expect(logsCall?.query).to.include({ task: 'web', plain: 'true', origin: 'end' });

    const tail = captureIo();
    expect(await logsCommand([app, '--tail', '1'], env(), tail.io)).to.equal(0);
    expect(tail.lines()).to.deep.equal([`${prefix} ctl \\u001b[2J end`]);

    // One instance's last lines, as `norn status` links them: stdout, then stderr.
    const one = await svc.api(`/api/apps/${app}/instances/${alloc!.ID.slice(0, 8)}/logs?tail=2`);
    expect(one.status).to.equal(200);
    expect(await one.text()).to.equal('--- stdout ---\ntoken=***\nctl \u001b[2J end\n--- stderr ---\nwarning on stderr\n');

    const since = await svc.api(`/api/apps/${app}/logs?since=10m`);
    expect(since.status).to.equal(400);
    expect(await since.json()).to.include({ field: 'since' });
    const cron = await svc.api(`/api/apps/${app}/logs?process=nightly`);
    expect(cron.status).to.equal(400);
    expect(await cron.json()).to.include({ field: 'process' });
  });

  it('follows new output and closes Nomad\'s log streams when the client goes away', async () => {
    const [alloc] = running();
    const abort = new AbortController();
    const res = await fetch(`${svc.url}/api/apps/${app}/logs?follow=true&tail=1`, { headers: svc.authHeaders, signal: abort.signal });
    expect(res.status).to.equal(200);
    await eventually('the receiver to follow both streams', async () => (svc.nomad.logFollowers(alloc!.ID, 'web', 'stdout') === 1 && svc.nomad.logFollowers(alloc!.ID, 'web', 'stderr') === 1 ? true : undefined));
    svc.nomad.writeLog(alloc!.ID, 'web', 'stdout', 'written while following\n');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('written while following')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await eventually('no log follower left at Nomad', async () => (svc.nomad.logFollowers(alloc!.ID, 'web', 'stdout') + svc.nomad.logFollowers(alloc!.ID, 'web', 'stderr') === 0 ? true : undefined));
  });

  it('scales the task group up and down through Nomad\'s job scale API', async () => {
    const up = captureIo();
    expect(await scale([app, 'web', '3', '--yes'], env(), up.io), up.err()).to.equal(0);
    expect(up.out()).to.contain('web scaled from 1 to 3');
    expect(svc.nomad.job(app)!.TaskGroups.find((g) => g.Name === 'web')!.Count).to.equal(3);
    expect(running()).to.have.length(3);
    const call = svc.nomad.requests.find((r) => r.path === `/v1/job/${app}/scale`);
    expect(call?.body).to.deep.include({ Count: 3, Target: { Group: 'web' } });

    const down = captureIo();
    expect(await scale([app, 'web', '2', '--yes'], env(), down.io), down.err()).to.equal(0);
    expect(down.out()).to.contain('web scaled from 3 to 2');
    await eventually('one allocation stopped', async () => (running().length === 2 ? true : undefined));

    const bad = await svc.api(`/api/apps/${app}/scale`, { method: 'POST', body: JSON.stringify({ process: 'nightly', count: 2 }) });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.match(/^process: nightly is a scheduled process/);
  });

  it('restarts allocations one at a time, each running again before the next', async () => {
    const allocs = running();
    expect(allocs).to.have.length(2);
    const cap = captureIo();
    expect(await restart([app, '--yes'], env(), cap.io), cap.err()).to.equal(0);
    expect(cap.out()).to.match(/restarted 2 instance\(s\) of every service process/);
    const restarts = svc.nomad.requests.filter((r) => r.path.endsWith('/restart')).map((r) => r.path);
    expect(restarts).to.deep.equal(allocs.map((a) => `/v1/client/allocation/${a.ID}/restart`));
    const events = (id: string) => svc.nomad.allocations(app).find((a) => a.ID === id)!.TaskStates!.web!.Events!;
    const startedAgain = events(allocs[0]!.ID).filter((e) => e.Type === 'Started').at(-1)!.Time;
    const secondSignaled = events(allocs[1]!.ID).find((e) => e.Type === 'Restart Signaled')!.Time;
    expect(secondSignaled - startedAgain, 'the second waited for the first to run again for the window (1 s)').to.be.at.least(1e9);
    expect(running().map((a) => a.TaskStates!.web!.Restarts)).to.deep.equal([1, 1]);
  });

  it('stops the restart at an allocation that does not come back and names it', async () => {
    const allocs = running();
    svc.nomad.setScenarioAfterRestart(allocs[0]!.ID, 'crash');
    const before = svc.nomad.requests.length;
    const cap = captureIo();
    expect(await restart([app, 'web', '--yes'], env(), cap.io)).to.equal(1);
    expect(cap.err()).to.contain(`restart failed: web instance ${allocs[0]!.ID.slice(0, 8)}:`);
    expect(cap.err()).to.match(/restarted again after the restart|the allocation is failed/);
    expect(cap.err()).to.contain('1 allocation(s) after it were not restarted');
    expect(svc.nomad.requests.slice(before).filter((r) => r.path.endsWith('/restart')).map((r) => r.path)).to.deep.equal([`/v1/client/allocation/${allocs[0]!.ID}/restart`]);
  });

  it('refuses to scale or restart while a deploy of the app runs, and that deploy keeps the scaled count', async () => {
    svc.writeSpec(app, { ...specFor(app, repo.url), image: 'registry.example/app:slow' });
    svc.nomad.setScenario({ image: 'registry.example/app:slow' }, 'never-healthy');
    // The new spec has no `nightly`: once the catalog lists web alone, a push deploys the slow image.
    await eventually('the new spec', async () => {
      const { apps } = (await (await svc.api('/api/apps')).json()) as { apps: { name: string; processes: string[] }[] };
      return apps.find((a) => a.name === app)?.processes.join() === 'web' ? true : undefined;
    });
    const sagaId = await push();
    await eventually('the deploy to run', async () => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string } }).saga.status === 'running' ? true : undefined);
    const res = await svc.api(`/api/apps/${app}/restart`, { method: 'POST', body: '{}' });
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error: string }).error).to.match(/a deploy of .* is running/);
    await ended(sagaId);
    // That deploy registered with PreserveCounts: the count set with `norn scale` (2) outlived it.
    const registration = svc.nomad.requests.filter((r) => r.path === '/v1/jobs').at(-1);
    expect(registration?.body).to.deep.include({ PreserveCounts: true });
    expect(svc.nomad.jobVersions(app).map((j) => j.TaskGroups.find((g) => g.Name === 'web')?.Count).at(-1)).to.equal(2);
  });
});
