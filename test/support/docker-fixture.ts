// Small apps to build on the test engine, and a step context around them. Every Dockerfile starts FROM
// norn-base:latest (made by start-services.sh), since no image can be pulled here.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { infraspecSchema, type AppSpec } from '../../src/apps/infraspec-schema.js';
import type { StepContext, StepOutputs } from '../../src/pipeline/step.js';
import { dockerHost } from './services.js';

export const BASE_IMAGE = 'norn-base:latest';

/** A random lower-case suffix, so names and build caches do not carry over between runs. */
export function nonce(): string {
  return randomBytes(4).toString('hex');
}

/** A random 40-hex commit id. */
export function fakeSha(): string {
  return randomBytes(20).toString('hex');
}

/** Writes `files` (path -> content) into a new temporary directory; returns it and a remover. */
export async function writeApp(files: Record<string, string>): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'norn-app-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function appSpec(fields: Record<string, unknown>): AppSpec {
  return infraspecSchema.parse({ processes: { web: { command: 'true' } }, ...fields });
}

export interface RecordedContext extends StepContext {
  readonly reports: string[];
  readonly controller: AbortController;
}

export function stepContext(spec: AppSpec, outputs: StepOutputs, commitSha = fakeSha()): RecordedContext {
  const reports: string[] = [];
  const controller = new AbortController();
  return {
    sagaId: `saga-${nonce()}`,
    app: spec.name,
    spec,
    specDir: '/nonexistent',
    ref: 'refs/heads/main',
    commitSha,
    cloneUrl: 'file:///nonexistent',
    signal: controller.signal,
    outputs,
    report: (message) => reports.push(message),
    reports,
    controller,
  };
}

/** A raw dockerode client on the test engine, for looking behind the code under test. */
export function rawDocker(): Dockerode {
  const host = dockerHost();
  return new Dockerode(host.startsWith('unix://') ? { socketPath: host.slice('unix://'.length) } : undefined);
}
