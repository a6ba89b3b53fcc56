// What a deploy of an app would do, asked without deploying: the Nomad jobs it would register and Nomad's plan of
// them (`norn plan`), and the names in its secrets file (`norn secrets keys`). Secret values never leave: jobs
// and Nomad's diff are redacted before they are answered, and the secrets route answers names only.
import Router from '@koa/router';
import type Dockerode from 'dockerode';
import { prebuiltImage } from '../../apps/infraspec-schema.js';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { ConfigError, InvalidInputError, UpstreamError } from '../../errors.js';
import type { NomadClient } from '../../integrations/nomad/nomad-client.js';
import type { NomadJob, NomadPlanResponse } from '../../integrations/nomad/nomad-types.js';
import { type AgeKeyEnv, loadAgeIdentities } from '../../integrations/sops/age-identities.js';
import { decryptSopsFile } from '../../integrations/sops/decrypt-sops.js';
import { flattenToEnv } from '../../integrations/sops/flatten-to-env.js';
import { SopsError } from '../../integrations/sops/sops-error.js';
import { SECRETS_FILE_NAMES, findSecretsFile, sopsSecretsLoader } from '../../apps/app-secrets.js';
import { REDACTED, redactEnvList, redactSecretEnv } from '../../runtime/redact-secret-env.js';
import { jobsToRegister, planJobs } from '../../runtime/nomad/plan-jobs.js';
import { planApp } from '../../app-plan/plan-app.js';
import { containerOptions, type DockerNetwork } from '../../runtime/docker/container-options.js';
import type { SubmitConfig } from '../../runtime/nomad/submit.js';
import { appFromParam } from './app-param.js';

export interface AppOpsRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly nomad: Pick<NomadClient, 'plan'>;
  /** The image tag of the app's last succeeded deploy, if it has one. */
  lastImage(app: string): Promise<string | undefined>;
  /** SOPS_AGE_KEY_FILE / SOPS_AGE_KEY, the identities the submit step decrypts with. */
  readonly ageKeys: AgeKeyEnv;
  /** What the submit step translates with, so the plan shows the jobs a deploy would register. */
  readonly submitConfig?: SubmitConfig;
  /** Masks configured secrets in Nomad's error text before it is answered. */
  readonly redact?: (text: string) => string;
  /** How long to wait for Nomad's plan before answering without it (default 10 s). */
  readonly planTimeoutMs?: number;
  /** The runtime deploys go to; on Docker the plan lists the containers a deploy would start instead of jobs. */
  runtimeName?(): Promise<'nomad' | 'docker' | undefined>;
  /** NORN_DOCKER_NETWORK, for the containers the Docker plan shows. */
  readonly dockerNetwork?: DockerNetwork;
}

export type ImageSource = 'query' | 'last-deploy' | 'spec';

export interface PlanAnswer {
  readonly app: string;
  readonly image: string;
  readonly imageSource: ImageSource;
  /** The jobs a deploy registers (the service job when it has task groups, the periodic ones, the functions'), redacted. */
  readonly jobs: NomadJob[];
  readonly secretEnvKeys: string[];
  /** Nomad's plan of each job, in the order of `jobs`, its diff redacted; null when Nomad could not plan. */
  readonly plan: { jobId: string; result: NomadPlanResponse }[] | null;
  readonly planError?: string;
  /** What the spec says that a deploy leaves aside (unknown fields, settings this receiver does not act on). */
  readonly warnings?: readonly { readonly path: string; readonly reason: string }[];
  /** Set on the Docker runtime: the containers a deploy would start (env redacted); `jobs` is then empty. */
  readonly runtime?: 'docker';
  readonly containers?: Dockerode.ContainerCreateOptions[];
}

export interface SecretKeysAnswer {
  readonly file: string;
  /** Top-level names passed to tasks as env. */
  readonly keys: string[];
  /** Names in the spec's `secrets` list that the file does not provide as env. */
  readonly missing: string[];
  /** Names left out of the env because their value is nested or null. */
  readonly skipped: string[];
}

const IMAGE = /^[^\s]{1,512}$/;

export function appOpsRoutes(deps: AppOpsRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);

  r.get('/plan', async (ctx) => {
    const app = appOf(ctx.params.app);
    const { image, imageSource } = await imageFor(app, ctx.query.image, deps);
    const secrets = await operatorFixable(() => sopsSecretsLoader(deps.ageKeys)(app.dir));
    if ((await deps.runtimeName?.()) === 'docker') {
      const plan = await operatorFixable(async () => planApp({ spec: app.spec, image, secrets: secrets?.env ?? {}, appPostgresUrl: deps.submitConfig?.appPostgresUrl }));
      const containers = plan.processes
        .filter((p) => p.kind === 'service')
        .flatMap((p) => Array.from({ length: p.count }, (_, index) => containerOptions(plan, p, { sagaId: 'plan', commitSha: '', index, network: deps.dockerNetwork ?? 'bridge' })))
        .map((c) => ({ ...c, Env: redactEnvList(c.Env ?? [], plan.secretEnvKeys) }));
      const warnings = app.warnings.map((w) => ({ path: w.path, reason: w.reason }));
      const answer: PlanAnswer = { app: app.name, image, imageSource, jobs: [], secretEnvKeys: plan.secretEnvKeys, plan: null, runtime: 'docker', containers, warnings };
      ctx.body = answer;
      return;
    }
    const { jobs, secretEnvKeys } = await operatorFixable(async () => jobsToRegister({ spec: app.spec, image, secrets: secrets?.env ?? {}, ...deps.submitConfig }));
    const answer: PlanAnswer = { app: app.name, image, imageSource, jobs: jobs.map((j) => redactSecretEnv(j, secretEnvKeys)), secretEnvKeys, plan: null, warnings: app.warnings.map((w) => ({ path: w.path, reason: w.reason })) };
    try {
      const planned = await planJobs(deps.nomad, jobs, AbortSignal.timeout(deps.planTimeoutMs ?? 10_000));
      const plan: NonNullable<PlanAnswer['plan']> = planned.map(({ job, result }) => ({
        jobId: job.ID,
        result: { ...result, Diff: redactPlanDiff(result.Diff, publicEnvKeys(job, secretEnvKeys)) },
      }));
      ctx.body = { ...answer, plan };
    } catch (err) {
      // The jobs are still worth showing when Nomad is down or refuses the plan; the message says which.
      if (err instanceof UpstreamError) ctx.body = { ...answer, planError: deps.redact ? deps.redact(err.message) : err.message };
      else if (err instanceof Error && err.name === 'TimeoutError') ctx.body = { ...answer, planError: `nomad: no plan within ${Math.round((deps.planTimeoutMs ?? 10_000) / 1000)}s` };
      else throw err;
    }
  });

  r.get('/secrets', async (ctx) => {
    const app = appOf(ctx.params.app);
    const file = await findSecretsFile(app.dir);
    if (!file) throw new InvalidInputError('secrets', `${app.name} has no secrets file (${SECRETS_FILE_NAMES.join(', ')} beside its infraspec)`, 404);
    const doc = await operatorFixable(async () => decryptSopsFile(file, await loadAgeIdentities(deps.ageKeys)));
    const { env, skipped } = flattenToEnv(doc.data);
    const answer: SecretKeysAnswer = {
      file,
      keys: Object.keys(env),
      missing: (app.spec.secrets ?? []).filter((k) => !Object.hasOwn(env, k)),
      skipped: skipped.map((s) => s.key),
    };
    ctx.body = answer;
  });
  return r;
}

/** ?image=, else the last succeeded deploy's image, else the spec's `image`; an app that builds needs one of the first two. */
async function imageFor(app: LoadedApp, query: unknown, deps: AppOpsRouteDeps): Promise<{ image: string; imageSource: ImageSource }> {
  if (query !== undefined) {
    if (typeof query !== 'string' || !IMAGE.test(query)) throw new InvalidInputError('image', 'must be one image reference such as registry/app:tag');
    return { image: query, imageSource: 'query' };
  }
  const last = await deps.lastImage(app.name);
  if (last) return { image: last, imageSource: 'last-deploy' };
  if (!app.spec.build) return { image: prebuiltImage(app.spec), imageSource: 'spec' };
  throw new InvalidInputError('image', `${app.name} builds its image and has no succeeded deploy yet; name the image to plan (norn plan --image TAG)`);
}

/** A secrets file the receiver cannot open, or a bad NORN_* setting, is the operator's to fix: 409 with the reason. */
async function operatorFixable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof SopsError) throw new InvalidInputError('secrets', err.message, 409);
    if (err instanceof ConfigError) throw new InvalidInputError(err.variable, err.reason, 409);
    throw err;
  }
}

/** Env names whose values are not secret in `job` (they came from the spec, which is not secret). */
function publicEnvKeys(job: NomadJob, secretKeys: readonly string[]): Set<string> {
  const secret = new Set(secretKeys);
  const keys = job.TaskGroups.flatMap((g) => g.Tasks).flatMap((t) => Object.keys(t.Env ?? {}));
  return new Set(keys.filter((k) => !secret.has(k)));
}

// Nomad flattens task env into field diffs named `Env[KEY]` (the simulator: `Env.KEY`), with the registered job's
// value as Old and ours as New, so a plan diff would show secrets both old and new.
const ENV_FIELD = /(?:^|\.)Env(?:\[(.+)\]|\.(.+))$/;

/**
 * A copy of Nomad's plan diff with the Old/New values of every env field redacted unless the name is a
 * non-secret env key of the planned job. A key that is gone from the job may have held a secret, so it is hidden too.
 */
export function redactPlanDiff<T>(diff: T, publicEnv: ReadonlySet<string>): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const copy: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    const match = typeof copy.Name === 'string' ? ENV_FIELD.exec(copy.Name) : null;
    if (match && !publicEnv.has((match[1] ?? match[2])!)) {
      for (const side of ['Old', 'New']) if (typeof copy[side] === 'string' && copy[side] !== '') copy[side] = REDACTED;
    }
    return copy;
  };
  return walk(diff) as T;
}
