// Every spec shape Norn v2's docs show (test/fixtures/norn-specs, see its PROVENANCE.md) loads here, translates to
// Nomad jobs, and says what this receiver leaves aside: one row per spec with the warnings it must carry.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { prebuiltImage } from '../../../src/apps/infraspec-schema.js';
import { parseSpecFile, type LoadedApp } from '../../../src/apps/load-app-specs.js';
import { translateApp } from '../../../src/runtime/nomad/translate-app.js';
import { fixturesDir } from '../../support/fixtures-dir.js';

const DIR = path.join(fixturesDir(), 'norn-specs');

interface Row {
  readonly dir: string;
  /** Field paths of the warnings, in order. */
  readonly warnings: readonly string[];
  /** Service task groups and periodic job ids the translation must give. */
  readonly groups: readonly string[];
  readonly periodic: readonly string[];
  readonly check?: (app: LoadedApp) => void;
}

const table: Row[] = [
  {
    dir: 'full-reference',
    warnings: ['infrastructure.objectStorage', 'snapshots.exportBucket'],
    groups: ['importer', 'web'],
    periodic: ['ledger-sync-report'],
    check: ({ spec }) => {
      expect(spec.repo).to.include({ branch: 'master', autoDeploy: true });
      expect(spec.migrations).to.equal('./migrations');
    },
  },
  { dir: 'concepts', warnings: ['infrastructure.objectStorage'], groups: ['indexer', 'web'], periodic: ['notes-purge'] },
  { dir: 'getting-started', warnings: [], groups: ['web'], periodic: [], check: ({ spec }) => expect(spec.repo!.branch).to.equal('main') },
  { dir: 'why-norn-minimal', warnings: [], groups: ['web'], periodic: [], check: ({ spec }) => expect(spec.repo).to.equal(undefined) },
  {
    dir: 'why-norn-kinds',
    warnings: ['processes.rebuild-index.function'],
    groups: ['api', 'consumer'],
    periodic: ['kinds-nightly'],
    check: ({ spec }) => expect(spec.build).to.deep.equal({ dockerfile: 'Dockerfile', context: '.' }),
  },
  {
    dir: 'functions',
    warnings: ['processes.thumbnail.function', 'processes.bulk-render.function'],
    groups: ['web'],
    periodic: [],
    check: ({ spec }) => expect(prebuiltImage(spec)).to.equal('thumbs:latest'),
  },
  { dir: 'cron', warnings: [], groups: [], periodic: ['chores-digest', 'chores-sweep', 'chores-weekly-sweep'] },
  { dir: 'observability', warnings: [], groups: ['queue-worker', 'web'], periodic: [] },
  { dir: 'cloudflare-endpoints', warnings: ['endpoints[1].region'], groups: ['web'], periodic: [] },
  { dir: 'object-storage', warnings: ['infrastructure.objectStorage'], groups: ['web'], periodic: [] },
  { dir: 'volumes-secrets', warnings: [], groups: ['web'], periodic: [] },
  { dir: 'snapshots-deploy-policy', warnings: ['snapshots.exportBucket'], groups: ['web'], periodic: [] },
  { dir: 'tuning', warnings: ['processes.web.tuning'], groups: ['web'], periodic: [] },
  {
    dir: 'loose',
    warnings: ['env', 'processes.web.health', 'processes.web.replicas', 'snapshot', 'infrastructure.kafka', 'deployPolicy'],
    groups: ['web', 'worker'],
    periodic: [],
    check: (app) => {
      expect(prebuiltImage(app.spec)).to.equal('loose:latest');
      expect(app.spec.deployPolicy.autoRollback).to.equal(true);
      expect(app.spec.migrations).to.equal('make migrate');
      const typo = app.warnings.find((w) => w.path === 'snapshot');
      expect(typo!.reason).to.include('did you mean "snapshots"?');
      expect(typo!.line).to.be.a('number');
    },
  },
];

describe('specs written for Norn v2 (test/fixtures/norn-specs)', () => {
  it('has a row for every fixture folder', () => {
    const dirs = fs.readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(table.map((r) => r.dir).sort()).to.deep.equal(dirs);
  });

  for (const row of table) {
    it(`${row.dir}: loads, names what it leaves aside, and translates`, () => {
      const file = path.join(DIR, row.dir, 'infraspec.yaml');
      const result = parseSpecFile(file, fs.readFileSync(file, 'utf8'));
      if ('errors' in result) throw new Error(`${row.dir} did not load: ${JSON.stringify(result.errors)}`);
      expect(result.warnings.map((w) => w.path)).to.deep.equal(row.warnings);
      for (const w of result.warnings) expect(w.reason, w.path).to.match(/ignored|not acted on|not deployed|empty|stays true/);
      const jobs = translateApp({ spec: result.spec, image: 'registry.test/app:1', secrets: {} });
      expect(jobs.service.TaskGroups.map((g) => g.Name).sort()).to.deep.equal([...row.groups]);
      expect(jobs.periodic.map((j) => j.ID)).to.deep.equal([...row.periodic]);
      row.check?.(result);
    });
  }
});
