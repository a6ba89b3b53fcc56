// How the operator commands read: snapshot tables, restore outcomes, cloudflared rules, Nomad's plan, secret names.
import { expect } from 'chai';
import { ingressLines, ownedHostnames } from '../../../src/cli/ingress-render.js';
import type { IngressListing, PlanAnswer, RestoreSnapshotResult, Snapshot } from '../../../src/cli/ops-api-types.js';
import { diffLines, planHeader, planLines } from '../../../src/cli/plan-render.js';
import { secretsKeysNotes } from '../../../src/cli/secrets-command.js';
import { restoreAction, restoreLines, snapshotTable } from '../../../src/cli/snapshots-render.js';
import { formatBytes } from '../../../src/cli/text-table.js';

const snap = (over: Partial<Snapshot>): Snapshot => ({
  id: 's1', app: 'shop', database: 'shop_db', commitSha: '0123456789abcdef0123', sagaId: null, kind: 'deploy', size: 2048,
  path: '/srv/snapshots/shop/shop_db-0123456-20240501T120000Z.dump', ts: '20240501T120000Z', createdAt: '2024-05-01T12:00:00.000Z', deletedAt: null, ...over,
});

describe('snapshot rendering', () => {
  it('prints a table of timestamp, commit, size and file, sizes right-aligned, pre-restore dumps marked', () => {
    const lines = snapshotTable('shop', [
      snap({ ts: '20240502T080000Z', commitSha: null, kind: 'pre-restore', size: 512, path: '/s/b.dump' }),
      snap({ size: 3 * 1024 * 1024 + 300_000, path: '/s/a.dump' }),
    ]);
    expect(lines).to.deep.equal([
      'TIMESTAMP         COMMIT           SIZE  FILE',
      '20240502T080000Z  -               512 B  /s/b.dump  (pre-restore)',
      '20240501T120000Z  0123456789ab  3.3 MiB  /s/a.dump',
    ]);
  });

  it('says when an app has no snapshots', () => {
    expect(snapshotTable('shop', [])).to.deep.equal(['no snapshots of shop']);
  });

  it('reports a restore with its safety snapshot', () => {
    const result: RestoreSnapshotResult = {
      snapshot: snap({}),
      safetySnapshot: snap({ ts: '20240503T000000Z', path: '/s/safety.dump', kind: 'pre-restore' }),
      restore: { id: 'r1', app: 'shop', snapshotId: 's1', safetySnapshotId: 's2', status: 'succeeded', error: null, startedAt: 'x', finishedAt: '2024-05-03T00:00:02.000Z' },
    };
    expect(restoreLines('shop', result)).to.deep.equal([
      "restored shop's database shop_db from snapshot 20240501T120000Z (commit 0123456789ab, 2.0 KiB)",
      '  safety snapshot of the data it replaced: 20240503T000000Z (/s/safety.dump)',
      '  restore r1 succeeded at 2024-05-03T00:00:02.000Z',
    ]);
  });

  it('names the database and commit in the confirmation question when it knows them', () => {
    expect(restoreAction('shop', '20240501T120000Z', snap({}), true)).to.equal(
      'replace the data in database shop_db of shop with snapshot 20240501T120000Z (commit 0123456789ab, taken 2024-05-01T12:00:00.000Z), after taking a safety snapshot of the current data',
    );
    expect(restoreAction('shop', '20240501T120000Z', undefined, false)).to.equal("replace the data in shop's database with snapshot 20240501T120000Z");
  });

  it('formats sizes in binary units', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 3].map(formatBytes)).to.deep.equal(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB']);
  });
});

describe('ingress rendering', () => {
  const listing: IngressListing = {
    configPath: '/etc/cloudflared/config.yml',
    rules: [
      { index: 0, hostname: 'shop.example.com', service: 'http://10.0.0.5:8080', owner: 'shop' },
      { index: 1, hostname: 'docs.example.com', path: '/api/.*', service: 'http://10.0.0.9:80' },
      { index: 2, service: 'http_status:404' },
    ],
    problems: [],
  };

  it('lists rules in file order, numbered from 1, with the owning app', () => {
    expect(ingressLines(listing)).to.deep.equal([
      'cloudflared ingress in /etc/cloudflared/config.yml',
      '  #  HOSTNAME          PATH     SERVICE               APP',
      '  1  shop.example.com  -        http://10.0.0.5:8080  shop',
      '  2  docs.example.com  /api/.*  http://10.0.0.9:80    -',
      '  3  *                 -        http_status:404       -',
    ]);
  });

  it('says why cloudflared would refuse the file', () => {
    const lines = ingressLines({ ...listing, problems: ['the last rule must match every hostname'] });
    expect(lines.slice(-2)).to.deep.equal(['cloudflared would refuse this file:', '  ✗ the last rule must match every hostname']);
  });

  it('finds the hostnames an app owns', () => {
    expect(ownedHostnames(listing, 'shop')).to.deep.equal(['shop.example.com']);
    expect(ownedHostnames(listing, 'docs')).to.deep.equal([]);
  });
});

describe('plan rendering', () => {
  const updates = (u: Partial<Record<string, number>>) => ({ Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0, ...u });
  const answer = (plan: PlanAnswer['plan']): PlanAnswer => ({ app: 'shop', image: 'reg/shop:2', imageSource: 'query', jobs: [], secretEnvKeys: ['API_KEY'], plan });

  it('summarises each job as nomad job plan does: verdict, allocation changes per group, changed fields', () => {
    const lines = planLines(answer([
      {
        jobId: 'shop',
        result: {
          Annotations: { DesiredTGUpdates: { web: updates({ DestructiveUpdate: 2, Place: 1 }), worker: updates({ Ignore: 1 }) } },
          FailedTGAllocs: { web: { NodesEvaluated: 3, NodesExhausted: 3, DimensionExhausted: { memory: 3 } } },
          JobModifyIndex: 7, CreatedEvals: null, Index: 9, Warnings: 'Group "web" has warnings\n',
          Diff: {
            Type: 'Edited', ID: 'shop', Fields: [], Objects: null,
            TaskGroups: [
              { Type: 'Edited', Name: 'web', Fields: [{ Type: 'Edited', Name: 'Count', Old: '2', New: '3' }], Objects: null, Tasks: [
                { Type: 'Edited', Name: 'web', Fields: [{ Type: 'Added', Name: 'Env[API_KEY]', Old: '', New: '<redacted>' }], Objects: [
                  { Type: 'Edited', Name: 'Config', Fields: [{ Type: 'Edited', Name: 'image', Old: 'reg/shop:1', New: 'reg/shop:2' }], Objects: null },
                ] },
              ] },
              { Type: 'None', Name: 'worker', Fields: null, Objects: null, Tasks: [] },
              { Type: 'Added', Name: 'cron', Fields: [{ Type: 'Added', Name: 'Count', Old: '', New: '1' }], Objects: null, Tasks: [] },
            ],
          },
        },
      },
      {
        jobId: 'shop-cleanup',
        result: { Annotations: { DesiredTGUpdates: { cleanup: updates({}) } }, FailedTGAllocs: null, JobModifyIndex: 0, CreatedEvals: null, Index: 9, Warnings: '', Diff: { Type: 'Added', ID: 'shop-cleanup' } },
      },
    ]));
    expect(lines).to.deep.equal([
      'Nomad plan:',
      '~ job shop: would change',
      '    group web: 1 create, 2 create/destroy update',
      '    group worker: 1 ignore',
      '    ~ group web: Count: "2" => "3"',
      '    + group web › task web: Env[API_KEY]: "<redacted>"',
      '    ~ group web › task web › Config: image: "reg/shop:1" => "reg/shop:2"',
      '    + group cron added',
      '    ✗ group web: placement would fail (3 of 3 node(s) exhausted: memory on 3)',
      '    warning: Group "web" has warnings',
      '+ job shop-cleanup: would be created',
      '    group cleanup: nothing to do',
    ]);
  });

  it('prints nothing without a plan and says when there is nothing to register', () => {
    expect(planLines({ ...answer(null), planError: 'nomad: down' })).to.deep.equal([]);
    expect(planLines(answer([]))).to.deep.equal(['Nomad plan: nothing to register (no service or scheduled process)']);
  });

  it('heads the jobs with the image, where it came from, and which env keys are redacted', () => {
    expect(planHeader({ ...answer(null), imageSource: 'last-deploy' })).to.equal(
      '0 job(s) for shop with image reg/shop:2 (from the last succeeded deploy); secret env values shown as <redacted> (API_KEY)',
    );
  });

  it('lists deleted fields and objects too, and nothing for a missing diff', () => {
    expect(diffLines({ Type: 'Edited', Fields: [{ Type: 'Deleted', Name: 'Meta[x]', Old: '1', New: '' }], Objects: [{ Type: 'Deleted', Name: 'Periodic' }] })).to.deep.equal([
      '- Meta[x]: "1"',
      '- Periodic removed',
    ]);
    expect(diffLines(null)).to.deep.equal([]);
  });
});

describe('secrets keys notes', () => {
  it('counts the keys, names skipped ones, and warns for each spec name the file lacks', () => {
    expect(secretsKeysNotes('shop', { file: '/apps/shop/secrets.enc.yaml', keys: ['A', 'B'], missing: ['C', 'NESTED'], skipped: ['NESTED'] })).to.deep.equal([
      '2 key(s) in /apps/shop/secrets.enc.yaml',
      'note: not passed as env (nested or null): NESTED',
      "warning: C is in shop's spec secrets list but not in /apps/shop/secrets.enc.yaml",
      "warning: NESTED is in shop's spec secrets list but is nested or null in /apps/shop/secrets.enc.yaml, so no task gets it",
    ]);
  });
});
