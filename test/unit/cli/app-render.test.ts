// `norn apps` and `norn status <app>`.
import { expect } from 'chai';
import type { DeployView } from '../../../src/cli/api-types.js';
import { appRows, appStatus } from '../../../src/cli/app-render.js';

function deploy(over: Partial<DeployView>): DeployView {
  return {
    sagaId: 'saga-1', app: 'shop', kind: 'deploy', ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'push', deliveryId: null,
    status: 'succeeded', currentStep: null, error: null, imageTag: null, createdAt: '2026-11-27T09:00:00.000Z', startedAt: '2026-11-27T09:00:01.000Z', finishedAt: '2026-11-27T09:01:00.000Z', ...over,
  };
}

describe('app rendering', () => {
  it('lists apps with their last deploy, and invalid specs', () => {
    const lines = appRows({
      apps: [
        { name: 'shop', file: 'apps/shop/infraspec.yaml', repo: { url: 'https://git.example/shop.git', branch: 'main' }, processes: ['web'], lastDeploy: deploy({ status: 'failed' }) },
        { name: 'blog', file: 'apps/blog/infraspec.yaml', repo: null, processes: ['web'], lastDeploy: null },
      ],
      errors: [{ file: 'apps/api/infraspec.yaml', path: 'name', reason: 'required' }],
    });
    expect(lines).to.deep.equal([
      'shop  failed aaaaaaaaaaaa 2026-11-27 09:01:00  https://git.example/shop.git (main)',
      'blog  never deployed  no repo',
      '✗ apps/api/infraspec.yaml name: required',
    ]);
  });

  it('lists each app\'s spec warnings under the apps', () => {
    const lines = appRows({
      apps: [{ name: 'shop', file: 'f', repo: null, processes: ['web'], lastDeploy: null, warnings: [{ path: 'snapshot', reason: 'unknown field "snapshot" is ignored' }] }],
      errors: [],
    });
    expect(lines).to.deep.equal(['shop  never deployed  no repo', '! shop snapshot: unknown field "snapshot" is ignored']);
  });

  it('shows the current image, the running step and recent deploys', () => {
    const lines = appStatus({
      name: 'shop',
      file: 'apps/shop/infraspec.yaml',
      spec: { repo: { url: 'https://git.example/shop.git', branch: 'main' }, image: 'r/shop:spec' },
      currentImage: 'r/shop:aaaa',
      running: deploy({ sagaId: 'saga-2', status: 'running', currentStep: 'healthy', commitSha: 'b'.repeat(40), finishedAt: null }),
      deploys: [deploy({ sagaId: 'saga-2', status: 'running', currentStep: 'healthy', commitSha: 'b'.repeat(40), finishedAt: null }), deploy({ imageTag: 'r/shop:aaaa' })],
    });
    expect(lines).to.deep.equal([
      'shop  (apps/shop/infraspec.yaml)',
      '  repo     https://git.example/shop.git (main)',
      '  image    r/shop:aaaa',
      '  running  healthy (saga saga-2, bbbbbbbbbbbb)',
      '  recent deploys',
      '    2026-11-27 09:00:01  running     bbbbbbbbbbbb main (push)  saga-2 at healthy',
      '    2026-11-27 09:01:00  succeeded   aaaaaaaaaaaa main (push)  saga-1 r/shop:aaaa',
    ]);
  });
});
