import { expect } from 'chai';
import type { LoadedApp, SpecError } from '../../../src/apps/load-app-specs.js';
import { buildAppIndex, matchPush } from '../../../src/apps/match-push.js';
import { validateAppSpec } from '../../../src/apps/validate-app-spec.js';
import type { PushCommit, PushEvent } from '../../../src/webhooks/parsed-delivery.js';

function app(name: string, repo: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): LoadedApp {
  const result = validateAppSpec({ name, image: 'nginx', repo, processes: { web: { port: 80 } }, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return { name, dir: `/apps/${name}`, file: `/apps/${name}/infraspec.yaml`, spec: result.spec, warnings: [] };
}

function commit(files: Partial<Pick<PushCommit, 'added' | 'removed' | 'modified'>>, id = 'abcdef1234567890'): PushCommit {
  return { id, message: 'change', added: [], removed: [], modified: [], ...files };
}

function push(overrides: Partial<PushEvent> = {}): PushEvent {
  return {
    kind: 'push',
    forge: 'github',
    deliveryId: 'd-1',
    repository: {
      fullName: 'acme/shop',
      urls: ['https://github.com/acme/shop.git', 'git@github.com:acme/shop.git', 'https://github.com/acme/shop'],
    },
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: 'a'.repeat(40),
    deleted: false,
    headCommitMessage: 'change',
    author: 'dev',
    commits: [commit({ modified: ['README.md'] })],
    ...overrides,
  };
}

const SHOP = { url: 'git@github.com:Acme/Shop.git', autoDeploy: true };

describe('matchPush', () => {
  const table: [string, LoadedApp, Partial<PushEvent>, boolean, RegExp][] = [
    ['push to the tracked branch (ssh spec url, https push url)', app('shop', SHOP), {}, true, /push to tracked branch main/],
    ['another tracked branch', app('shop', { ...SHOP, branch: 'release' }), { ref: 'refs/heads/release' }, true, /tracked branch release/],
    ['wrong branch', app('shop', SHOP), { ref: 'refs/heads/feature/x' }, false, /^branch feature\/x is not the tracked branch main$/],
    ['autoDeploy off', app('shop', { url: SHOP.url }), {}, false, /^autoDeploy is off/],
    ['deploy: false', app('shop', SHOP, { deploy: false }), {}, false, /^deploy: false$/],
    ['other repo', app('shop', { ...SHOP, url: 'https://github.com/acme/other' }), {}, false, /^repo differs: tracks github\.com\/acme\/other, push is for github\.com\/acme\/shop$/],
    ['spec without repo', app('shop', undefined), {}, false, /^no repo in the spec$/],
    ['tag matching repo.tags', app('shop', { ...SHOP, tags: 'v*' }), { ref: 'refs/tags/v1.2.0' }, true, /^tag v1\.2\.0 matches v\*$/],
    ['tag matching even with autoDeploy off', app('shop', { url: SHOP.url, tags: 'v*' }), { ref: 'refs/tags/v1' }, true, /^tag v1 matches v\*$/],
    ['tag not matching repo.tags', app('shop', { ...SHOP, tags: 'v*' }), { ref: 'refs/tags/nightly' }, false, /^tag nightly does not match v\*$/],
    ['tag without repo.tags', app('shop', SHOP), { ref: 'refs/tags/v1' }, false, /repo\.tags is not set/],
    ['tag push with deploy: false', app('shop', { ...SHOP, tags: 'v*' }, { deploy: false }), { ref: 'refs/tags/v1' }, false, /^deploy: false$/],
    ['deleted tracked branch', app('shop', SHOP), { deleted: true, after: '0'.repeat(40) }, false, /deletes refs\/heads\/main/],
    ['neither branch nor tag', app('shop', SHOP), { ref: 'refs/notes/commits' }, false, /neither a branch nor a tag/],
    [
      'paths filter hit',
      app('api', { ...SHOP, paths: ['services/api/**'] }),
      { commits: [commit({ modified: ['README.md'] }), commit({ added: ['services/api/src/x.ts'] }, '1234567890abcdef')] },
      true,
      /^push to tracked branch main; commit 1234567 touches services\/api\/src\/x\.ts$/,
    ],
    [
      'paths filter counts removed files',
      app('api', { ...SHOP, paths: ['services/api/**'] }),
      { commits: [commit({ removed: ['services/api/old.ts'] })] },
      true,
      /touches services\/api\/old\.ts/,
    ],
    [
      'paths filter miss',
      app('api', { ...SHOP, paths: ['services/api/**', 'libs/**'] }),
      { commits: [commit({ modified: ['services/web/index.ts'] })] },
      false,
      /^push to tracked branch main, but no pushed commit touches paths \[services\/api\/\*\*, libs\/\*\*\]$/,
    ],
    [
      'paths filter matches dotfiles',
      app('api', { ...SHOP, paths: ['services/api/**'] }),
      { commits: [commit({ modified: ['services/api/.env.example'] })] },
      true,
      /touches services\/api\/\.env\.example/,
    ],
    [
      'paths filter with no file lists in the push',
      app('api', { ...SHOP, tags: 'v*', paths: ['services/api/**'] }),
      { ref: 'refs/tags/v2', commits: [] },
      true,
      /no file list in push; paths filter not applied/,
    ],
  ];
  for (const [title, theApp, overrides, matched, reason] of table) {
    it(title, () => {
      const result = matchPush(buildAppIndex([theApp], []), push(overrides));
      expect(result.decisions).to.have.length(1);
      const [decision] = result.decisions;
      expect(decision!.app).to.equal(theApp.name);
      expect(decision!.reason).to.match(reason);
      expect(decision!.matched).to.equal(matched);
      expect(result.matched.map((a) => a.name)).to.deep.equal(matched ? [theApp.name] : []);
    });
  }

  it('deploys every app tracking the repo, not only the first, and explains the others', () => {
    const apps = [
      app('shop-web', SHOP),
      app('other', { url: 'https://github.com/acme/other.git', autoDeploy: true }),
      app('shop-worker', { url: 'https://github.com/acme/shop', autoDeploy: true }),
      app('shop-staging', { ...SHOP, branch: 'staging' }),
    ];
    const result = matchPush(buildAppIndex(apps, []), push());
    expect(result.matched.map((a) => a.name)).to.deep.equal(['shop-web', 'shop-worker']);
    expect(result.decisions.map((d) => [d.app, d.matched])).to.deep.equal([
      ['shop-web', true],
      ['other', false],
      ['shop-worker', true],
      ['shop-staging', false],
    ]);
    expect(result.decisions.filter((d) => d.matched).every((d) => d.trigger === 'branch')).to.equal(true);
    expect(result.identities).to.deep.equal(['github.com/acme/shop']);
  });

  it('keeps the explanation short in a large catalog: every app on this repo, and the first few others', () => {
    const others = Array.from({ length: 50 }, (_, i) => app(`other-${i}`, { url: `https://github.com/acme/other-${i}.git`, autoDeploy: true }));
    const result = matchPush(buildAppIndex([...others, app('shop', SHOP)], []), push());
    expect(result.matched.map((a) => a.name)).to.deep.equal(['shop']);
    expect(result.decisions).to.have.length(21);
    expect(result.decisions.at(-1)).to.include({ app: 'shop', matched: true });
    expect(result.unlisted).to.equal(30);
  });

  it('matches a bare repo by path whether the spec says file:// or a plain path', () => {
    const local = app('shop', { url: 'file:///srv/git/shop.git', autoDeploy: true });
    const result = matchPush(buildAppIndex([local], []), push({ repository: { fullName: 'shop', urls: ['/srv/git/shop.git'] } }));
    expect(result.matched.map((a) => a.name)).to.deep.equal(['shop']);
  });

  it('passes on the current spec errors so the verdict can mention them', () => {
    const errors: SpecError[] = [{ file: '/apps/broken/infraspec.yaml', path: 'processes.web.port', reason: 'port must be 1-65535', repo: 'github.com/acme/shop' }];
    const result = matchPush(buildAppIndex([app('shop-web', SHOP)], errors), push());
    expect(result.invalidSpecs).to.deep.equal(errors);
  });
});
