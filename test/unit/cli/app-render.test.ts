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
      currentDeploy: deploy({ imageTag: 'r/shop:aaaa' }),
      running: deploy({ sagaId: 'saga-2', status: 'running', currentStep: 'healthy', commitSha: 'b'.repeat(40), finishedAt: null }),
      deploys: [deploy({ sagaId: 'saga-2', status: 'running', currentStep: 'healthy', commitSha: 'b'.repeat(40), finishedAt: null }), deploy({ imageTag: 'r/shop:aaaa' })],
    });
    expect(lines).to.deep.equal([
      'shop  (apps/shop/infraspec.yaml)',
      '  repo     https://git.example/shop.git (main)',
      '  image    r/shop:aaaa (deployed by saga saga-1, 2026-11-27 09:01:00, aaaaaaaaaaaa)',
      '  deploy   running: healthy (saga saga-2, bbbbbbbbbbbb)',
      '  recent deploys',
      '    2026-11-27 09:00:01  running     bbbbbbbbbbbb main (push)  saga-2 at healthy',
      '    2026-11-27 09:01:00  succeeded   aaaaaaaaaaaa main (push)  saga-1 r/shop:aaaa',
    ]);
  });

  it('says idle when no deploy runs, and shows an image a failed deploy pushed next to the one that is live', () => {
    const failed = deploy({ sagaId: 'saga-3', status: 'failed', error: 'submit: nomad: register job failed: no answer', imageTag: 'r/shop:cccc', commitSha: 'c'.repeat(40), createdAt: '2026-11-27T10:00:00.000Z', finishedAt: '2026-11-27T10:02:00.000Z' });
    const live = deploy({ imageTag: 'r/shop:aaaa' });
    const lines = appStatus({ name: 'shop', file: 'f', spec: {}, currentImage: 'r/shop:aaaa', currentDeploy: live, lastBuiltNotDeployed: failed, running: null, deploys: [failed, live] });
    expect(lines.slice(2, 5)).to.deep.equal([
      '  image    r/shop:aaaa (deployed by saga saga-1, 2026-11-27 09:01:00, aaaaaaaaaaaa)',
      '  built    r/shop:cccc (saga saga-3, 2026-11-27 10:02:00; failed at submit, not deployed)',
      '  deploy   idle (no deploy running)',
    ]);
  });

  it('says under the image when the live deploy is not routed, and why', () => {
    const live = { ...deploy({ imageTag: 'r/shop:aaaa' }), notRouted: 'no cloudflared config at /etc/cf.yml (NORN_CLOUDFLARED_CONFIG)' };
    const lines = appStatus({ name: 'shop', file: 'f', spec: {}, currentImage: 'r/shop:aaaa', currentDeploy: live, running: null, deploys: [live] });
    expect(lines[3]).to.equal('  routing  live, not routed: no cloudflared config at /etc/cf.yml (NORN_CLOUDFLARED_CONFIG)');
  });

  it('says plainly when nothing was deployed yet, or that the live image is the spec\'s', () => {
    const never = appStatus({ name: 'shop', file: 'f', spec: {}, currentImage: null, running: null, deploys: [] });
    expect(never[2]).to.equal('  image    none yet (no deploy has succeeded)');
    const fromSpec = appStatus({ name: 'shop', file: 'f', spec: { image: 'r/shop:1' }, currentImage: null, currentDeploy: deploy({}), running: null, deploys: [] });
    expect(fromSpec[2]).to.equal("  image    r/shop:1 (deployed by saga saga-1, 2026-11-27 09:01:00, aaaaaaaaaaaa; the spec's image)");
  });
});
