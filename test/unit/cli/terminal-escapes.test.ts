// Every CLI output path renders the receiver's text with control characters escaped (issue 14 item 7): a
// repository name, ref, reason, commit message or error that carries `\e[2J\e]0;PWNED\a` must not clear the
// screen or retitle the terminal, whichever command prints it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { appsCommand, statusCommand } from '../../../src/cli/app-commands.js';
import { deliveriesCommand, deliveryCommand, redeliverCommand } from '../../../src/cli/delivery-commands.js';
import { ingressCommand } from '../../../src/cli/ingress-commands.js';
import { sagaCommand } from '../../../src/cli/saga-command.js';
import { snapshotsCommand } from '../../../src/cli/snapshots-command.js';
import type { Envelope } from '../../../src/cli/api-types.js';
import { DeployProgress } from '../../../src/cli/deploy-progress.js';
import { deployView } from '../../../src/cli/deploy-view.js';
import { oneLine, terminalIo, terminalSafe } from '../../../src/cli/terminal-text.js';
import { STEP_NAMES } from '../../../src/pipeline/step.js';
import { captureIo } from '../../fakes/capture-io.js';

const ATTACK = '\u001b[2J\u001b]0;PWNED\u0007\r\u009b31m\u202e';
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
const ID = '11111111-2222-3333-4444-555555555555';
const SHA = 'a'.repeat(40);
const T = '2026-12-06T12:00:00.000Z';

const deploy = { sagaId: ID, app: 'shop', kind: 'deploy', ref: `refs/heads/main${ATTACK}`, commitSha: SHA, trigger: 'push', deliveryId: null, status: 'failed', currentStep: null, error: `clone: ${ATTACK}`, imageTag: null, createdAt: T, startedAt: T, finishedAt: T };
const delivery = {
  id: ID, forge: 'github', deliveryId: `d${ATTACK}`, event: `push${ATTACK}`, verdict: 'ignored', statusCode: 200, reason: `no app tracks ${ATTACK}`,
  trace: { signature: `valid${ATTACK}`, event: `push${ATTACK}`, ref: `refs/heads/x${ATTACK}`, commitSha: SHA, steps: [`matched ${ATTACK}`], apps: [{ app: 'shop', matched: false, reason: ATTACK }], invalidSpecs: [{ file: ATTACK, path: 'repo.url', reason: ATTACK }] },
  repo: `acme/shop${ATTACK}`, ref: `refs/heads/main${ATTACK}`, commitSha: SHA, redeliveryOf: null, receivedAt: T,
};
const answers: Record<string, unknown> = {
  [`GET /api/deliveries`]: { deliveries: [delivery] },
  [`GET /api/deliveries/${ID}`]: { delivery, deploys: [deploy] },
  [`POST /api/deliveries/${ID}/redeliver`]: { redeliveryOf: ID, deliveryId: ID, verdict: 'queued', reason: ATTACK, deploys: [{ app: 'shop', sagaId: ID, commitSha: SHA }] },
  [`GET /api/apps`]: { apps: [{ name: 'shop', file: ATTACK, repo: { url: `https://x/${ATTACK}`, branch: ATTACK }, processes: [], lastDeploy: deploy }], errors: [{ file: ATTACK, path: 'x', reason: ATTACK }] },
  [`GET /api/apps/shop`]: { name: 'shop', file: ATTACK, spec: { repo: { url: ATTACK, branch: ATTACK }, image: ATTACK }, currentImage: null, running: null, deploys: [deploy] },
  [`GET /api/sagas/${ID}`]: { saga: deploy, events: [{ id: ID, sagaId: ID, seq: 1, timestamp: T, source: 'pipeline', app: 'shop', category: 'step', action: 'step.failed', message: `clone failed: ${ATTACK}`, metadata: {} }] },
  [`GET /api/cloudflared/ingress`]: { configPath: ATTACK, rules: [{ index: 0, hostname: ATTACK, path: null, service: ATTACK, owner: 'shop' }], problems: [ATTACK] },
  [`GET /api/apps/shop/snapshots`]: { snapshots: [{ id: ID, app: 'shop', database: ATTACK, commitSha: SHA, sagaId: null, kind: 'deploy', size: 10, path: ATTACK, ts: '20261206T120000Z', createdAt: T }] },
  [`GET /api/apps/broken`]: { __status: 502, error: `git: ls-remote failed: ${ATTACK}`, hint: ATTACK },
};

describe('CLI output with hostile text from the receiver', () => {
  let server: http.Server;
  let env: { NORN_URL: string };
  before(async () => {
    server = http.createServer((req, res) => {
      const answer = answers[`${req.method} ${req.url?.split('?')[0]}`] as Record<string, unknown> | undefined;
      const { __status, ...body } = answer ?? { __status: 404, error: `no route ${ATTACK}` };
      res.writeHead(typeof __status === 'number' ? __status : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = { NORN_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const commands: [string, (args: string[], e: typeof env, io: ReturnType<typeof captureIo>['io']) => Promise<number>, string[]][] = [
    ['norn deliveries', deliveriesCommand, []],
    ['norn delivery <id>', deliveryCommand, [ID]],
    ['norn redeliver <id>', redeliverCommand, [ID]],
    ['norn apps', appsCommand, []],
    ['norn status <app>', statusCommand, ['shop']],
    ['norn saga <id>', sagaCommand, [ID]],
    ['norn ingress', ingressCommand, []],
    ['norn snapshots <app>', snapshotsCommand, ['shop']],
    ['an error answer with a hint', statusCommand, ['broken']],
    ['an unknown route', statusCommand, ['nothing']],
  ];
  for (const [what, command, args] of commands) {
    it(`${what} shows the text escaped`, async () => {
      const c = captureIo();
      await command(args, env, c.io);
      const printed = c.out() + c.err();
      expect(printed).to.contain('\\u001b[2J');
      expect(printed, JSON.stringify(printed)).to.not.match(RAW_CONTROLS);
    });
  }

  it('escapes with visible \\uXXXX forms, keeping newlines only where output is laid out', () => {
    expect(terminalSafe(`a${ATTACK}\nb\tc`)).to.equal('a\\u001b[2J\\u001b]0;PWNED\\u0007\\u000d\\u009b31m\\u202e\nb\tc');
    expect(oneLine('a\nb\tc')).to.equal('a\\u000ab\\u0009c');
  });
});

describe('norn deploy with hostile text in the live stream', () => {
  for (const mode of ['tty', 'plain', 'json'] as const) {
    it(`the ${mode} view escapes it (the frame keeps only its own cursor control)`, () => {
      const c = captureIo({ isTTY: mode === 'tty' });
      const progress = new DeployProgress(ID, 'deploy', STEP_NAMES);
      const view = deployView(mode, { app: 'shop', progress, out: terminalIo(c.io).out, err: terminalIo(c.io).err });
      const envelopes: Envelope[] = [
        { type: 'deploy.queued', appId: 'shop', seq: 1, payload: { sagaId: ID, ref: `refs/heads/main${ATTACK}`, commitSha: SHA, trigger: 'manual' } },
        { type: 'deploy.step', appId: 'shop', seq: 2, payload: { sagaId: ID, step: 'clone', status: 'failed', message: `clone failed: ${ATTACK}`, durationMs: 5 } },
        { type: 'deploy.failed', appId: 'shop', seq: 3, payload: { sagaId: ID, step: 'clone', error: `clone failed: ${ATTACK}`, reason: 'failed' } },
      ];
      for (const env of envelopes) {
        progress.apply(env, Date.now());
        view.show(env);
      }
      view.close();
      const printed = c.out() + c.err();
      expect(printed).to.contain('\\u001b[2J');
      // The frame's own sequences are cursor-up (ESC [ n F) and clear-below (ESC [ 0 J), nothing else.
      // eslint-disable-next-line no-control-regex -- the frame's own escape sequences
      const ours = printed.replace(/\u001b\[\d*F|\u001b\[0J/g, '');
      expect(ours, JSON.stringify(printed)).to.not.match(RAW_CONTROLS);
    });
  }
});
