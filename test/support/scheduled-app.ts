// The service on the Docker runtime with one app that needs no build (it runs norn-base:latest): a process `tick`
// scheduled daily at 04:00 Europe/Berlin, and a function `greet`. For the tests of the cron and invoke verbs, in
// the CLI and in the dashboard.
import { dockerRuntimeEnv } from './docker-runtime-app.js';
import { requireDocker } from './services.js';
import { startTestService, type TestService } from './test-service.js';

/** `greetCommand`: what the function runs (it finds its payload at $NORN_PAYLOAD_FILE). */
export async function startScheduledAppService(app: string, opts: { apiToken: string; greetCommand: string }): Promise<TestService> {
  await requireDocker();
  return startTestService({
    env: { ...dockerRuntimeEnv(), NORN_API_TOKEN: opts.apiToken },
    specs: {
      [app]: {
        name: app,
        image: 'norn-base:latest',
        processes: {
          tick: { schedule: '0 4 * * *', timezone: 'Europe/Berlin', command: 'echo "tick ran"' },
          greet: { function: { timeout: '20s' }, command: opts.greetCommand },
        },
      },
    },
  });
}
