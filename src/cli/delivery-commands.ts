// `norn deliveries [--app A] [--limit N]`, `norn delivery <id>` (the decision trace) and `norn redeliver <id>`.
import { apiCommand, intOption } from './api-command.js';
import type { DeliveryAnswer, DeliveryView, RedeliveryAnswer } from './api-types.js';
import { deliveryRow, deliveryTrace, redeliveryLines } from './delivery-render.js';

export const deliveriesCommand = apiCommand({
  usage: 'norn deliveries [--app <app>] [--limit N]',
  options: { app: { type: 'string' }, limit: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run({ api, args, io }) {
    const query = { app: args.values.app as string | undefined, limit: intOption(args.values.limit, 'limit') };
    const { deliveries } = await api.get<{ deliveries: DeliveryView[] }>('/api/deliveries', query);
    for (const d of deliveries) io.out.write(`${deliveryRow(d)}\n`);
    if (deliveries.length === 0) io.out.write('no deliveries recorded\n');
    return 0;
  },
});

export const deliveryCommand = apiCommand({
  usage: 'norn delivery <id>',
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const answer = await api.get<DeliveryAnswer>(`/api/deliveries/${encodeURIComponent(args.positionals[0]!)}`);
    io.out.write(`${deliveryTrace(answer).join('\n')}\n`);
    return 0;
  },
});

export const redeliverCommand = apiCommand({
  usage: 'norn redeliver <id>',
  positionals: { min: 1, max: 1 },
  async run({ api, args, io }) {
    const answer = await api.post<RedeliveryAnswer>(`/api/deliveries/${encodeURIComponent(args.positionals[0]!)}/redeliver`);
    io.out.write(`${redeliveryLines(answer).join('\n')}\n`);
    return 0;
  },
});
