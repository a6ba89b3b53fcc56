// The service with one app for the preflight tests: its repository's main branch holds a Dockerfile FROM
// norn-base and a check.sh that passes (the app's test step runs it), and the forge simulator takes the commit
// statuses the preflights report.
import { ForgeSimulator } from './forge-simulator.js';
import { createTestRepo, type TestRepo } from './git-repos.js';
import { dockerHost, requireDocker } from './services.js';
import { startTestService, type TestService } from './test-service.js';

export interface PreflightService {
  readonly repo: TestRepo;
  readonly sim: ForgeSimulator;
  readonly svc: TestService;
  /** The commit on main. */
  readonly mainSha: string;
  close(): Promise<void>;
}

/** `gitea`: the simulator also answers as the Gitea API, for pull requests from Gitea. */
export async function startPreflightService(app: string, opts: { gitea?: boolean } = {}): Promise<PreflightService> {
  await requireDocker();
  const repo = createTestRepo(app);
  const mainSha = repo.commit({ Dockerfile: 'FROM norn-base:latest\n', 'check.sh': 'exit 0\n' });
  const sim = await ForgeSimulator.start({ token: 'forge-token' });
  try {
    const svc = await startTestService({
      env: {
        DOCKER_HOST: dockerHost(),
        NORN_GITHUB_API_URL: sim.url,
        NORN_GITHUB_TOKEN: 'forge-token',
        ...(opts.gitea ? { NORN_GITEA_URL: sim.url, NORN_GITEA_TOKEN: 'forge-token' } : {}),
        NORN_STATUS_POLL_INTERVAL_MS: '50',
      },
      specs: {
        [app]: {
          name: app,
          repo: { url: repo.url, branch: 'main', autoDeploy: true },
          build: { test: 'sh /src/check.sh' },
          processes: { web: { port: 8080, command: 'httpd -f -p 8080' } },
        },
      },
    });
    return {
      repo,
      sim,
      svc,
      mainSha,
      async close() {
        await svc.close();
        await sim.close();
        repo.remove();
      },
    };
  } catch (err) {
    await sim.close();
    repo.remove();
    throw err;
  }
}
