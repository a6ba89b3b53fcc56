import { expect } from 'chai';
import { infraspecSchema } from '../../../../src/apps/infraspec-schema.js';
import { planApp } from '../../../../src/app-plan/plan-app.js';
import { containerOptions } from '../../../../src/runtime/docker/container-options.js';
import { renderNomadJobs } from '../../../../src/runtime/nomad/translate-app.js';

const spec = infraspecSchema.parse({
  name: 'shop',
  image: 'reg/shop:1',
  env: { LOG_LEVEL: 'info' },
  infrastructure: { postgres: { database: 'shop' } },
  volumes: [{ name: 'uploads', mount: '/data' }, { name: 'certs', mount: '/certs', readOnly: true }],
  processes: {
    web: { port: 8080, command: 'node server.js', health: { path: '/healthz' }, resources: { cpu: 500, memory: 256 }, drain: { signal: 'SIGINT', timeout: '45s' }, scaling: { min: 2 } },
    nightly: { schedule: '0 3 * * *', timezone: 'Europe/Berlin' },
  },
});
const plan = planApp({ spec, image: 'reg/shop:1', secrets: { API_KEY: 's3cret' }, appPostgresUrl: 'postgres://u:p@db:5432/postgres' });
const web = plan.processes.find((p) => p.name === 'web')!;
const target = { sagaId: '1234abcd-0000-0000-0000-000000000000', commitSha: 'a'.repeat(40), index: 1 };

describe('the Docker rendering of the plan', () => {
  it('runs what Nomad runs: same count, env, command, resources and drain', () => {
    const group = renderNomadJobs(plan, { spec }).service.TaskGroups.find((g) => g.Name === 'web')!;
    const c = containerOptions(plan, web, { ...target, network: 'bridge' });
    expect(group.Count).to.equal(web.count).and.equal(2);
    expect(c.Env).to.deep.equal(Object.entries(group.Tasks[0]!.Env!).map(([k, v]) => `${k}=${v}`));
    expect(c.Env).to.include.members(['PORT=8080', 'API_KEY=s3cret', 'DATABASE_URL=postgres://u:p@db:5432/shop', 'LOG_LEVEL=info']);
    expect(c.Cmd).to.deep.equal(['/bin/sh', '-c', 'node server.js']);
    expect(c).to.include({ Image: 'reg/shop:1', StopSignal: 'SIGINT', StopTimeout: 45, name: 'shop-web-1234abcd-1' });
    expect(c.HostConfig).to.include({ Memory: 256 * 1024 * 1024, NanoCpus: 500_000_000, NetworkMode: 'bridge' });
    expect(c.HostConfig!.RestartPolicy).to.deep.equal({ Name: 'unless-stopped' });
  });

  it('labels the container, names its volumes after the app, and publishes the port on 127.0.0.1 (bridge)', () => {
    const c = containerOptions(plan, web, { ...target, network: 'bridge' });
    expect(c.Labels).to.deep.equal({ 'norn.app': 'shop', 'norn.process': 'web', 'norn.saga': target.sagaId, 'norn.commit': target.commitSha, 'norn.role': 'service' });
    expect(c.HostConfig!.Binds).to.deep.equal(['shop-uploads:/data', 'shop-certs:/certs:ro']);
    expect(c.HostConfig!.PortBindings).to.deep.equal({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });

  it('on host networking gives the instance its free port as PORT and publishes nothing', () => {
    const c = containerOptions(plan, web, { ...target, network: 'host', hostPort: 41234 });
    expect(c.Env).to.include('PORT=41234').and.not.include('PORT=8080');
    expect(c.Labels).to.include({ 'norn.host-port': '41234' });
    expect(c.HostConfig).to.include({ NetworkMode: 'host' });
    expect(c.HostConfig!.PortBindings).to.equal(undefined);
  });

  it('keeps the schedule and its time zone in the plan for the runtimes to run', () => {
    expect(plan.processes.find((p) => p.name === 'nightly')!.schedule).to.deep.equal({ cron: '0 3 * * *', timeZone: 'Europe/Berlin' });
    expect(plan.secretEnvKeys).to.deep.equal(['API_KEY', 'DATABASE_URL']);
  });
});
