// The Norn-style specs of test/fixtures/norn-specs, dropped into a running receiver's apps dir: every one loads
// (none in the API's errors), its warnings are in GET /api/apps, and `GET /api/apps/:app/plan` translates it and gets
// Nomad's plan (the simulator's), with the same warnings. `norn validate` on the folder exits 0 and prints them.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { planCommand } from '../../src/cli/plan-command.js';
import { validateCommand } from '../../src/cli/validate-command.js';
import { captureIo } from '../fakes/capture-io.js';
import type { AppsAnswer } from '../../src/cli/api-types.js';
import type { PlanAnswer } from '../../src/cli/ops-api-types.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import { eventually, startTestService, type TestService } from '../support/test-service.js';

const DIR = path.join(fixturesDir(), 'norn-specs');
const FOLDERS = fs.readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('Norn-style specs in a running receiver: load and plan', function () {
  this.timeout(60_000);
  let svc: TestService;
  let apps: AppsAnswer;

  before(async () => {
    svc = await startTestService();
    for (const folder of FOLDERS) {
      fs.mkdirSync(path.join(svc.appsDir, folder));
      fs.copyFileSync(path.join(DIR, folder, 'infraspec.yaml'), path.join(svc.appsDir, folder, 'infraspec.yaml'));
    }
    apps = await eventually('every spec to be picked up', async () => {
      const answer = (await (await svc.api('/api/apps')).json()) as AppsAnswer;
      return answer.apps.length + answer.errors.length === FOLDERS.length ? answer : undefined;
    });
  });
  after(() => svc?.close());

  it('loads every one, none refused', () => {
    expect(apps.errors).to.deep.equal([]);
    expect(apps.apps).to.have.length(FOLDERS.length);
  });

  it('lists the warnings of each app', () => {
    const loose = apps.apps.find((a) => a.name === 'loose')!;
    expect(loose.warnings!.map((w) => w.path)).to.include.members(['processes.web.replicas', 'snapshot', 'deployPolicy']);
    const thumbs = apps.apps.find((a) => a.name === 'thumbs')!;
    expect(thumbs.warnings!.map((w) => w.path)).to.deep.equal(['processes.thumbnail.function', 'processes.bulk-render.function']);
  });

  it('plans every one with Nomad, and the plan carries the warnings', async () => {
    for (const app of apps.apps) {
      const res = await svc.api(`/api/apps/${app.name}/plan?image=registry.test/${app.name}:1`);
      const answer = (await res.json()) as PlanAnswer;
      expect(res.status, `${app.name}: ${JSON.stringify(answer)}`).to.equal(200);
      expect(answer.planError, app.name).to.equal(undefined);
      expect(answer.plan!.length, app.name).to.equal(answer.jobs.length);
      expect(answer.jobs.length, app.name).to.be.greaterThan(0);
      expect(answer.warnings).to.deep.equal(app.warnings!.map((w) => ({ path: w.path, reason: w.reason })));
    }
  });

  it('plans an app without build and image with <app>:latest', async () => {
    const answer = (await (await svc.api('/api/apps/loose/plan')).json()) as PlanAnswer;
    expect(answer).to.include({ image: 'loose:latest', imageSource: 'spec' });
  });

  it('norn plan prints what the deploy would leave aside', async () => {
    const c = captureIo();
    expect(await planCommand(['thumbs'], { NORN_URL: svc.url, NORN_API_TOKEN: svc.token }, c.io), c.err()).to.equal(0);
    expect(c.err()).to.include('warning: processes.thumbnail.function: not deployed by a push');
    expect(c.err()).to.include('with image thumbs:latest (from the spec)');
  });

  it('norn validate exits 0 on the folder and prints each warning under its app', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await validateCommand([DIR], {});
    } finally {
      process.stdout.write = write;
    }
    const out = chunks.join('');
    expect(code, out).to.equal(0);
    expect(out).to.match(/! .*loose\/infraspec\.yaml:\d+ {2}processes\.web\.replicas: unknown field "replicas" is ignored/);
    expect(out).to.match(new RegExp(`${FOLDERS.length} valid, 0 error\\(s\\), \\d+ warning\\(s\\)`));
  });
});
