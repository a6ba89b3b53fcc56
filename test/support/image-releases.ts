// Releases of an app that need no build, for the rollback tests, which need a history to go back in: release n
// is the image `<app>:<n>`, tagged from norn-base:latest on the test engine (the Nomad simulator runs nothing,
// but the receiver asks the engine for the image), deployed by pointing the app's spec at it.
import { expect } from 'chai';
import { rawDocker } from './docker-fixture.js';
import { sagaEnded } from './deploy-pushes.js';
import { eventually, type TestService } from './test-service.js';

export function releaseImage(app: string, n: number): string {
  return `${app}:${n}`;
}

export function releaseSpec(app: string, n: number): Record<string, unknown> {
  return { name: app, image: releaseImage(app, n), processes: { web: { port: 8080, health: { path: '/health' } } } };
}

export async function tagReleaseImages(app: string, releases: number[]): Promise<void> {
  for (const n of releases) await rawDocker().getImage('norn-base:latest').tag({ repo: app, tag: String(n) });
}

export async function removeReleaseImages(app: string, releases: number[]): Promise<void> {
  for (const n of releases) await rawDocker().getImage(releaseImage(app, n)).remove().catch(() => undefined);
}

/**
 * Deploys each release in turn, once the service's catalog has the spec naming it; each must succeed (its error is
 * the assertion's message). Answers the deploys' saga ids.
 */
export async function deployReleases(svc: TestService, app: string, releases: number[]): Promise<string[]> {
  const sagaIds: string[] = [];
  for (const n of releases) {
    svc.writeSpec(app, releaseSpec(app, n));
    await eventually(`the spec naming ${releaseImage(app, n)}`, async () => {
      const detail = (await (await svc.api(`/api/apps/${app}`)).json()) as { spec: { image: string } };
      return detail.spec.image === releaseImage(app, n) ? true : undefined;
    });
    const res = await svc.api(`/api/apps/${app}/deploy`, { method: 'POST', body: '{}' });
    const sagaId = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!.sagaId;
    const { saga } = await sagaEnded(svc, sagaId, 60_000);
    expect(saga.status, saga.error ?? '').to.equal('succeeded');
    sagaIds.push(sagaId);
  }
  return sagaIds;
}
