// How apps read in the CLI: a row per app in `norn apps`; the state of one app in `norn status`.
// Every line is one line: repo URLs, refs and deploy errors are escaped (newlines and control characters).
import type { AppDetail, AppsAnswer, DeployView, InstanceView } from './api-types.js';
import { oneLine } from './terminal-text.js';

export function appRows(answer: AppsAnswer): string[] {
  const width = Math.max(4, ...answer.apps.map((a) => a.name.length));
  const lines = answer.apps.map((a) => {
    const last = a.lastDeploy ? `${a.lastDeploy.status} ${a.lastDeploy.commitSha.slice(0, 12)} ${when(a.lastDeploy)}` : 'never deployed';
    return `${a.name.padEnd(width)}  ${last}  ${a.repo ? `${a.repo.url} (${a.repo.branch})` : 'no repo'}`;
  });
  for (const a of answer.apps) for (const w of a.warnings ?? []) lines.push(`! ${a.name} ${w.path}: ${w.reason}`);
  if (answer.apps.length === 0) lines.push('no apps');
  for (const e of answer.errors) lines.push(`✗ ${e.file} ${e.path || '(file)'}: ${e.reason}`);
  return lines.map(oneLine);
}

/** `instances`: what `GET /api/apps/:app/instances` answered; left out, the section is too. */
export function appStatus(app: AppDetail, instances?: readonly InstanceView[]): string[] {
  const lines = [
    `${app.name}  (${app.file})`,
    `  repo     ${app.spec.repo ? `${app.spec.repo.url} (${app.spec.repo.branch})` : '-'}`,
    `  image    ${imageLine(app)}`,
  ];
  if (app.currentDeploy?.notRouted) lines.push(`  routing  live, not routed: ${app.currentDeploy.notRouted}`);
  const unreleased = app.lastBuiltNotDeployed;
  if (unreleased?.imageTag) {
    const how = unreleased.status === 'failed' ? `failed at ${unreleased.error?.split(':')[0] ?? 'a later step'}` : unreleased.status;
    lines.push(`  built    ${unreleased.imageTag} (saga ${unreleased.sagaId}, ${when(unreleased)}; ${how}, not deployed)`);
  }
  lines.push(`  deploy   ${app.running ? `running: ${app.running.currentStep ?? 'starting'} (saga ${app.running.sagaId}, ${app.running.commitSha.slice(0, 12)})` : 'idle (no deploy running)'}`);
  if (instances) {
    lines.push(instances.length > 0 ? '  instances' : '  instances: none running');
    for (const i of instances) lines.push(`    ${instanceRow(i)}`);
  }
  lines.push(app.deploys.length > 0 ? '  recent deploys' : '  recent deploys: none');
  for (const d of app.deploys) lines.push(`    ${deployRow(d)}`);
  return lines.map(oneLine);
}

/** What runs now and which deploy put it there; else what the spec names; else that nothing was deployed yet. */
function imageLine(app: AppDetail): string {
  const from = app.currentDeploy;
  const image = app.currentImage ?? app.spec.image;
  if (from) return `${image ?? '-'} (deployed by saga ${from.sagaId}, ${when(from)}, ${from.commitSha.slice(0, 12)}${app.currentImage ? '' : '; the spec\'s image'})`;
  if (app.currentImage) return app.currentImage;
  if (image) return `${image} (named by the spec; no deploy has succeeded yet)`;
  return 'none yet (no deploy has succeeded)';
}

function instanceRow(i: InstanceView): string {
  const health = i.healthy === null ? '' : i.healthy ? ' healthy' : ' unhealthy';
  const commit = i.commitSha ? ` ${i.commitSha.slice(0, 12)}` : '';
  return `${i.process}  ${i.id.slice(0, 12)}  ${i.address ? `http://${i.address}` : '(no port)'}  ${i.state}${health}${commit}  ${i.image ?? ''}`.trimEnd();
}

function deployRow(d: DeployView): string {
  const detail = d.status === 'running' ? ` at ${d.currentStep ?? 'start'}` : d.error ? `: ${d.error}` : d.imageTag ? ` ${d.imageTag}` : '';
  return `${when(d)}  ${d.status.padEnd(11)} ${d.commitSha.slice(0, 12)} ${d.ref.replace(/^refs\/heads\//, '')} (${d.kind === 'deploy' ? d.trigger : `${d.kind}, ${d.trigger}`})  ${d.sagaId}${detail}`;
}

function when(d: DeployView): string {
  return (d.finishedAt ?? d.startedAt ?? d.createdAt).slice(0, 19).replace('T', ' ');
}
