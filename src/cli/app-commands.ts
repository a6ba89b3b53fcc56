// `norn apps` (every app with its last deploy) and `norn status <app>` (current image, running step, recent deploys).
import { apiCommand } from './api-command.js';
import type { AppDetail, AppsAnswer, InstanceView } from './api-types.js';
import { appRows, appStatus } from './app-render.js';

export const appsCommand = apiCommand({
  usage: 'norn apps',
  positionals: { min: 0, max: 0 },
  async run({ api, io }) {
    const answer = await api.get<AppsAnswer>('/api/apps');
    io.out.write(`${appRows(answer).join('\n')}\n`);
    return 0;
  },
});

export const statusCommand = apiCommand({
  usage: 'norn status <app>',
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const name = encodeURIComponent(args.positionals[0]!);
    const app = await api.get<AppDetail>(`/api/apps/${name}`);
    const instances = await api.get<InstanceView[]>(`/api/apps/${name}/instances`);
    io.out.write(`${appStatus(app, instances).join('\n')}\n`);
    return 0;
  },
});
