// `norn doctor`: asks the running receiver which integrations are configured and which answer
// (GET /api/health?verbose) and prints them as a table. Exit code 1 when something configured does not answer.
import { apiCommand } from './api-command.js';
import { doctorLines } from './doctor-render.js';
import type { IntegrationReport } from '../health/integration-report.js';

export const doctorCommand = apiCommand({
  usage: 'norn doctor',
  positionals: { min: 0, max: 0 },
  async run({ api, io }) {
    const report = await api.get<IntegrationReport & { status: string }>('/api/health', { verbose: '' });
    io.out.write(`${doctorLines(api.baseUrl, report).join('\n')}\n`);
    return report.hasFailures ? 1 : 0;
  },
});
