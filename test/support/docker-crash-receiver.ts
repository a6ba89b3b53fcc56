// A receiver in a child process on the Docker runtime, for the tests that kill -9 it in the middle of a deploy of
// the small web app (docker-runtime-app.ts) and start it again on the same data: short leases so the restarted one
// takes over at once, and a cloudflared config the forge step routes the app's hostname in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startChildReceiver, type ChildReceiver } from './child-receiver.js';
import { pushCommit, sagaWhere, type PushedCommit, type SagaAnswer } from './deploy-pushes.js';
import { dockerRuntimeEnv, removeAppContainers, webAppSpec } from './docker-runtime-app.js';
import { createTestRepo, type TestRepo } from './git-repos.js';
import { requireDocker } from './services.js';
import { TEST_SECRET } from './test-service.js';

export interface DockerCrashReceiver {
  readonly app: string;
  readonly repo: TestRepo;
  readonly cloudflaredConfig: string;
  /** fetch(`${url}${route}`) on the receiver running now, with its token (and a JSON content type when there is a body). */
  api(route: string, init?: RequestInit): Promise<Response>;
  push(files: Record<string, string>): Promise<PushedCommit>;
  /** Polls the saga on the receiver running now until `ok` holds (150 s at most: a build on a loaded machine). */
  waitFor<T extends SagaAnswer = SagaAnswer>(what: string, sagaId: string, ok: (s: T) => boolean): Promise<T>;
  killAndRestart(): Promise<void>;
  close(): Promise<void>;
}

export async function startDockerCrashReceiver(opts: {
  app: string;
  /** Fields added to the web process of the app's spec (e.g. a canary). */
  web?: Record<string, unknown>;
  gate: { minHealthySeconds: number; healthyDeadlineSeconds: number };
  /** NORN_CLOUDFLARED_RESTART: what "reloading cloudflared" runs. */
  cloudflaredRestart: string;
}): Promise<DockerCrashReceiver> {
  await requireDocker();
  const { app } = opts;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `norn-${app}-`));
  const repo = createTestRepo(app);
  let receiver: ChildReceiver | undefined;
  const close = async () => {
    await receiver?.kill('SIGKILL');
    await removeAppContainers(app);
    repo.remove();
    fs.rmSync(root, { recursive: true, force: true });
  };
  const cloudflaredConfig = path.join(root, 'cloudflared.yml');
  fs.writeFileSync(cloudflaredConfig, 'tunnel: test\ningress:\n  - service: http_status:404\n');
  fs.mkdirSync(path.join(root, 'apps', app), { recursive: true });
  const spec = webAppSpec(app, repo.url, { endpoints: [{ url: `https://${app}.example.com` }] });
  Object.assign((spec.processes as { web: Record<string, unknown> }).web, opts.web);
  fs.writeFileSync(path.join(root, 'apps', app, 'infraspec.yaml'), YAML.stringify(spec));
  const env = {
    NORN_APPS_DIR: path.join(root, 'apps'),
    NORN_DATA_DIR: path.join(root, 'data'),
    NORN_WEBHOOK_SECRET: TEST_SECRET,
    NORN_LEASE_SECONDS: '2',
    NORN_POLL_INTERVAL_MS: '50',
    ...dockerRuntimeEnv(opts.gate),
    NORN_CLOUDFLARED_CONFIG: cloudflaredConfig,
    NORN_CLOUDFLARED_RESTART: opts.cloudflaredRestart,
  };
  try {
    receiver = await startChildReceiver(env);
  } catch (err) {
    await close();
    throw err;
  }
  const current = () => receiver!;
  return {
    app,
    repo,
    cloudflaredConfig,
    api: (route, init = {}) =>
      fetch(`${current().url}${route}`, {
        ...init,
        headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...current().authHeaders },
      }),
    push: (files) => pushCommit(current(), repo, files),
    waitFor: (what, sagaId, ok) => sagaWhere(current(), what, sagaId, ok, 150_000),
    async killAndRestart() {
      await current().kill('SIGKILL');
      receiver = await startChildReceiver(env);
    },
    close,
  };
}
