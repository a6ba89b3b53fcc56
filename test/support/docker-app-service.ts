// The whole service in-process on the test engine's Docker runtime, with one app in a real git repository (by
// default the small web app of docker-runtime-app.ts), for the tests that push it and look at what runs.
import { expect } from 'chai';
import { pushCommit, sagaEnded, type PushedCommit, type SagaAnswer } from './deploy-pushes.js';
import { dockerRuntimeEnv, removeAppContainers, webAppSpec } from './docker-runtime-app.js';
import { createTestRepo, type TestRepo } from './git-repos.js';
import { requireDocker } from './services.js';
import { startTestService, type TestService } from './test-service.js';

/** How long a deploy may take here: a build and a health gate on a loaded two-core machine. */
const DEPLOY_TIMEOUT_MS = 150_000;

export interface DockerAppService {
  readonly app: string;
  readonly repo: TestRepo;
  readonly svc: TestService;
  /** Commits `files` and delivers the push; the service must accept it (202). */
  push(files: Record<string, string>): Promise<PushedCommit>;
  /** The saga once it is neither queued nor running. */
  ended<T extends SagaAnswer = SagaAnswer>(sagaId: string, timeoutMs?: number): Promise<T>;
  /** push, then the deploy must succeed (its error is the assertion's message). */
  deploy(files: Record<string, string>): Promise<PushedCommit>;
  /** Stops the service, removes the repository and every container of the app. */
  close(): Promise<void>;
}

export async function startDockerAppService(
  app: string,
  opts: {
    gate: { minHealthySeconds: number; healthyDeadlineSeconds: number };
    /** More receiver settings (a token, a registry, a forge...). */
    env?: Record<string, string>;
    /** The app's spec; webAppSpec(app, repoUrl) when not given. */
    spec?: (repoUrl: string) => Record<string, unknown>;
  },
): Promise<DockerAppService> {
  await requireDocker();
  const repo = createTestRepo(app);
  let svc: TestService;
  try {
    svc = await startTestService({
      env: { ...dockerRuntimeEnv(opts.gate), ...opts.env },
      specs: { [app]: opts.spec ? opts.spec(repo.url) : webAppSpec(app, repo.url) },
    });
  } catch (err) {
    repo.remove();
    throw err;
  }
  const ended = <T extends SagaAnswer = SagaAnswer>(sagaId: string, timeoutMs = DEPLOY_TIMEOUT_MS) => sagaEnded<T>(svc, sagaId, timeoutMs);
  const push = (files: Record<string, string>) => pushCommit(svc, repo, files);
  return {
    app,
    repo,
    svc,
    push,
    ended,
    async deploy(files) {
      const pushed = await push(files);
      const { saga } = await ended(pushed.sagaId);
      expect(saga.status, saga.error ?? '').to.equal('succeeded');
      return pushed;
    },
    async close() {
      await svc.close();
      repo.remove();
      await removeAppContainers(app);
    },
  };
}
