// `norn plan <app> [--image TAG] [--json]`: the Nomad jobs a deploy of the app would register, as JSON with secret
// env values redacted, then what Nomad's plan says would change. Registers nothing. Without Nomad the jobs still
// print, and stderr says why there is no plan. On the Docker runtime: the containers a deploy would start. --json
// prints the API's whole answer instead.
import { apiCommand } from './api-command.js';
import type { PlanAnswer } from './ops-api-types.js';
import { planHeader, planLines } from './plan-render.js';

export const planCommand = apiCommand({
  usage: 'norn plan <app> [--image TAG] [--json]',
  options: { image: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const app = args.positionals[0]!;
    const answer = await api.get<PlanAnswer>(`/api/apps/${encodeURIComponent(app)}/plan`, { image: args.values.image as string | undefined });
    if (args.values.json) {
      io.out.write(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    }
    if (answer.runtime === 'docker') {
      const redacted = answer.secretEnvKeys.length ? `; secret env values shown as <redacted> (${answer.secretEnvKeys.join(', ')})` : '';
      io.err.write(`${answer.containers?.length ?? 0} container(s) a deploy of ${answer.app} would start on the Docker engine with image ${answer.image}${redacted}\n`);
      for (const w of answer.warnings ?? []) io.err.write(`warning: ${w.path}: ${w.reason}\n`);
      io.out.write(`${JSON.stringify(answer.containers ?? [], null, 2)}\n`);
      return 0;
    }
    io.err.write(`${planHeader(answer)}\n`);
    for (const w of answer.warnings ?? []) io.err.write(`warning: ${w.path}: ${w.reason}\n`);
    io.out.write(`${JSON.stringify(answer.jobs, null, 2)}\n`);
    if (answer.plan) io.out.write(`\n${planLines(answer).join('\n')}\n`);
    else io.err.write(`norn: no plan from Nomad: ${answer.planError ?? 'unknown reason'}\n`);
    return 0;
  },
});
