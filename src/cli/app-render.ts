// How apps read in the CLI: a row per app in `norn apps`; the state of one app in `norn status`.
import type { AppDetail, AppsAnswer, DeployView, InstanceView } from './api-types.js';

export function appRows(answer: AppsAnswer): string[] {
  const width = Math.max(4, ...answer.apps.map((a) => a.name.length));
  const lines = answer.apps.map((a) => {
    const last = a.lastDeploy ? `${a.lastDeploy.status} ${a.lastDeploy.commitSha.slice(0, 12)} ${when(a.lastDeploy)}` : 'never deployed';
    return `${a.name.padEnd(width)}  ${last}  ${a.repo ? `${a.repo.url} (${a.repo.branch})` : 'no repo'}`;
  });
  if (answer.apps.length === 0) lines.push('no apps');
  for (const e of answer.errors) lines.push(`✗ ${e.file} ${e.path || '(file)'}: ${e.reason}`);
  return lines;
}

/** `instances`: what `GET /api/apps/:app/instances` answered; left out, the section is too. */
export function appStatus(app: AppDetail, instances?: readonly InstanceView[]): string[] {
  const lines = [
    `${app.name}  (${app.file})`,
    `  repo     ${app.spec.repo ? `${app.spec.repo.url} (${app.spec.repo.branch})` : '-'}`,
    `  image    ${app.currentImage ?? app.spec.image ?? '-'}${app.currentImage ? '' : ' (from the spec; no deploy has built one)'}`,
    `  running  ${app.running ? `${app.running.currentStep ?? 'starting'} (saga ${app.running.sagaId}, ${app.running.commitSha.slice(0, 12)})` : 'nothing'}`,
  ];
  if (instances) {
    lines.push(instances.length > 0 ? '  instances' : '  instances: none running');
    for (const i of instances) lines.push(`    ${instanceRow(i)}`);
  }
  lines.push(app.deploys.length > 0 ? '  recent deploys' : '  recent deploys: none');
  for (const d of app.deploys) lines.push(`    ${deployRow(d)}`);
  return lines;
}

function instanceRow(i: InstanceView): string {
  const health = i.healthy === null ? '' : i.healthy ? ' healthy' : ' unhealthy';
  const commit = i.commitSha ? ` ${i.commitSha.slice(0, 12)}` : '';
  return `${i.process}  ${i.id.slice(0, 12)}  ${i.address ? `http://${i.address}` : '(no port)'}  ${i.state}${health}${commit}  ${i.image ?? ''}`.trimEnd();
}

function deployRow(d: DeployView): string {
  const detail = d.status === 'running' ? ` at ${d.currentStep ?? 'start'}` : d.error ? `: ${d.error}` : d.imageTag ? ` ${d.imageTag}` : '';
  return `${when(d)}  ${d.status.padEnd(11)} ${d.commitSha.slice(0, 12)} ${d.ref.replace(/^refs\/heads\//, '')} (${d.trigger})  ${d.sagaId}${detail}`;
}

function when(d: DeployView): string {
  return (d.finishedAt ?? d.startedAt ?? d.createdAt).slice(0, 19).replace('T', ' ');
}
