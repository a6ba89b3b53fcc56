// The infraspec.yaml format (see INFRASPEC.md) as a zod schema: parsing applies the documented defaults, so code
// reading an AppSpec never re-implements them. Every object is strict; validate-app-spec.ts turns fields the schema
// does not know into warnings before it runs (Norn ignores them), and only the string maps accept any key.
// Extension beyond Norn v2: a top-level `image`, the image to run when there is no `build` section (without either,
// Norn's rule applies: `<name>:latest`). docs/infraspec.md documents every field.
import picomatch from 'picomatch';
import { z } from 'zod';
import { cronProblem } from './cron-expression.js';
import { isGoDuration, parseGoDuration } from './go-duration.js';
import { repoIdentity } from './repo-identity.js';
import { REMOTE_URL_FORMS, remoteUrlProblem } from '../integrations/git/remote-url.js';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_RULE = 'lowercase letters, digits and dashes, starting and ending with a letter or digit, at most 63 long';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** An app's name as specs allow it; the API checks names in paths and queries with the same rule. */
export function isAppName(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

const label = (what: string) =>
  z.string().max(63, `${what} must be at most 63 characters`).regex(DNS_LABEL, `${what} must be ${LABEL_RULE}`);

const nonEmpty = z.string().min(1, 'must not be empty');
const port = z.int('must be a whole number').min(1, 'port must be 1-65535').max(65535, 'port must be 1-65535');
const positiveInt = z.int('must be a whole number').min(1, 'must be at least 1');

const duration = (opts: { positive?: boolean } = {}) =>
  z.string().superRefine((d, ctx) => {
    if (!isGoDuration(d)) ctx.addIssue({ code: 'custom', message: 'must be a Go duration like 10s, 1h30m or 500ms' });
    else if (parseGoDuration(d) < 0) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
    else if (opts.positive && parseGoDuration(d) === 0) ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
  });

/** A path inside the cloned repo: relative, and unable to climb out of it. */
const repoPath = z.string().superRefine((p, ctx) => {
  if (p === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (/^([/\\]|[A-Za-z]:[/\\])/.test(p)) ctx.addIssue({ code: 'custom', message: 'must be relative to the repo root, not absolute' });
  else if (p.split(/[/\\]/).includes('..')) ctx.addIssue({ code: 'custom', message: 'must not contain ".." (it would leave the repo)' });
});

// Numbers and booleans are written unquoted in YAML all the time; the environment only holds strings.
const envValue = z.union([z.string(), z.number(), z.boolean()], 'must be a string, number or boolean').transform(String);
const envMap = z.record(z.string().regex(ENV_NAME, 'must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)'), envValue);

const glob = nonEmpty.refine(compiles, 'is not a valid glob');

const repo = z.strictObject({
  url: nonEmpty.superRefine((u, ctx) => {
    const problem = remoteUrlProblem(u);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    else if (repoIdentity(u) === undefined) ctx.addIssue({ code: 'custom', message: `must be a clone URL: ${REMOTE_URL_FORMS}` });
  }),
  branch: nonEmpty
    .refine((b) => !b.startsWith('refs/'), 'give the branch name (main), not the full ref')
    .refine((b) => !/\s|\.\./.test(b), 'is not a valid branch name')
    .default('main'),
  autoDeploy: z.boolean().default(false),
  repoWeb: z.url('must be a URL').optional(),
  tags: glob.optional(),
  paths: z.array(glob).min(1, 'list at least one glob, or remove paths').optional(),
});

const build = z.strictObject({
  dockerfile: repoPath.default('Dockerfile'),
  test: nonEmpty.optional(),
  testTarget: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be the name of a Dockerfile stage (FROM ... AS <name>)')
    .optional(),
  context: repoPath.default('.'),
  args: z
    .record(nonEmpty, envValue)
    .refine((a) => !('VERSION' in a), 'VERSION is reserved: the commit SHA is passed as VERSION')
    .refine((a) => !('BUILD_NUMBER' in a), 'BUILD_NUMBER is reserved: the commit count is passed as BUILD_NUMBER')
    .optional(),
}).refine((b) => b.testTarget === undefined || b.test !== undefined, { message: 'testTarget needs a test command to run in it', path: ['testTarget'] });

/**
 * `migrations` is a directory of SQL files in the repo (Norn's docs) or a command (Norn's code runs it with sh -c).
 * Which one is decided against the checkout (see migrate.ts); a path-like value must still stay inside the repo.
 */
const migrations = z.string().superRefine((m, ctx) => {
  if (m.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (!/\s/.test(m.trim()) && !m.startsWith('/') && m.split(/[/\\]/).includes('..')) {
    ctx.addIssue({ code: 'custom', message: 'must not contain ".." (it would leave the repo)' });
  }
});

/** Norn's advisory tuning policy: checked for shape, never acted on (see spec-notices.ts). */
const tuningProfile = z.strictObject({ cpu: positiveInt.optional(), memory: positiveInt.optional(), scale: z.int('must be a whole number').min(0).optional() });
const tuning = z.strictObject({
  mode: z.enum(['advisory', 'auto'], 'must be advisory or auto').optional(),
  cooldown: duration().optional(),
  profiles: z.record(nonEmpty, tuningProfile).optional(),
  limits: z.strictObject({ min: tuningProfile.optional(), max: tuningProfile.optional() }).optional(),
  signals: z
    .array(
      z.strictObject({
        name: nonEmpty.optional(),
        source: nonEmpty.optional(),
        metric: nonEmpty.optional(),
        window: duration().optional(),
        aggregate: nonEmpty.optional(),
      }),
    )
    .optional(),
});

const processSchema = z
  .strictObject({
    port: port.optional(),
    command: nonEmpty.optional(),
    schedule: z.string().superRefine((s, ctx) => {
      const problem = cronProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: `cron schedule ${problem}` });
    }).optional(),
    timezone: z.string().refine(isTimeZone, 'is not an IANA time zone (e.g. Europe/Berlin)').optional(),
    function: z.strictObject({ timeout: duration({ positive: true }).optional(), memory: positiveInt.optional() }).optional(),
    health: z
      .strictObject({
        path: z.string().startsWith('/', 'must start with /'),
        interval: duration({ positive: true }).default('10s'),
        timeout: duration({ positive: true }).default('5s'),
      })
      .optional(),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(false),
        path: z.string().startsWith('/', 'must start with /').default('/metrics'),
        port: port.optional(),
      })
      .prefault({}),
    scaling: z
      .strictObject({
        min: z.int('must be a whole number').min(0, 'must not be negative').default(1),
        max: positiveInt.optional(),
        per_region: positiveInt.optional(),
        auto: z.strictObject({ metric: nonEmpty, target: z.number().positive('must be greater than zero'), topic: nonEmpty.optional() }).optional(),
      })
      .refine((s) => s.max === undefined || s.max >= s.min, { message: 'max must be at least min', path: ['max'] })
      .prefault({}),
    drain: z
      .strictObject({
        signal: z.string().regex(/^SIG[A-Z0-9]+$/, 'must be a signal name like SIGTERM').default('SIGTERM'),
        timeout: duration().optional(),
      })
      .prefault({}),
    resources: z.strictObject({ cpu: positiveInt.default(100), memory: positiveInt.default(128) }).prefault({}),
    canary: z.strictObject({ count: positiveInt, evaluateAfter: duration().optional() }).optional(),
    tuning: tuning.optional(),
    env: envMap.optional(),
  })
  .superRefine((p, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (p.schedule !== undefined && p.function !== undefined) fail('function', 'a process has either schedule or function, not both');
    if (p.schedule === undefined && p.timezone !== undefined) fail('timezone', 'timezone applies only to a process with a schedule');
    if (p.port !== undefined && (p.schedule !== undefined || p.function !== undefined)) {
      fail('port', 'only service processes listen on a port (this one has a schedule or function)');
    }
    if (p.health && p.port === undefined) fail('health', 'health checks need a port on the process');
    if (p.metrics.enabled && p.metrics.port === undefined && p.port === undefined) fail('metrics', 'enabled metrics need metrics.port or a process port');
  });

const bucket = z.strictObject({
  name: nonEmpty,
  access: nonEmpty.optional(),
  public: z.boolean().optional(),
  prefix: z.string().optional(),
  env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
});

const infrastructure = z.strictObject({
  postgres: z.strictObject({ database: nonEmpty }).optional(),
  redis: z.strictObject({ namespace: nonEmpty.optional() }).optional(),
  kafka: z.strictObject({ topics: z.array(nonEmpty).optional() }).optional(),
  nats: z.strictObject({ streams: z.array(nonEmpty).optional() }).optional(),
  objectStorage: z.strictObject({ provider: nonEmpty.optional(), buckets: z.array(bucket).optional() }).optional(),
});

const endpoint = z.strictObject({
  url: z.string().refine(isEndpointUrl, 'must be an http(s) URL or a bare hostname'),
  region: nonEmpty.optional(),
});

const volume = z.strictObject({
  name: nonEmpty,
  mount: z
    .string()
    .startsWith('/', 'must be an absolute path in the container')
    .refine((m) => !m.split('/').includes('..'), 'must not contain ".."'),
  readOnly: z.boolean().optional(),
});

export const infraspecSchema = z
  .strictObject({
    name: label('name'),
    deploy: z.boolean().default(true),
    image: nonEmpty.optional(),
    repo: repo.optional(),
    build: build.optional(),
    processes: z
      .record(label('a process name'), processSchema)
      .refine((ps) => Object.keys(ps).length > 0, 'declare at least one process'),
    secrets: z.array(z.string().regex(ENV_NAME, 'must be an environment variable name')).optional(),
    migrations: migrations.optional(),
    env: envMap.optional(),
    infrastructure: infrastructure.optional(),
    endpoints: z.array(endpoint).optional(),
    volumes: z.array(volume).optional(),
    snapshots: z
      .strictObject({
        keep: positiveInt.default(3),
        preRestore: z.boolean().default(false),
        retentionEnabled: z.boolean().default(false),
        exportBucket: nonEmpty.optional(),
      })
      .prefault({}),
    deployPolicy: z.strictObject({ autoRollback: z.boolean().default(true) }).prefault({}),
    services: z.array(z.string()).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.build !== undefined && spec.image !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'image is used only without a build section; remove one of them' });
    }
    for (const name of Object.keys(spec.processes)) {
      // Consul service and periodic job ids are `{app}-{process}`, and a service name must fit a DNS label.
      if (spec.name.length + 1 + name.length > 63) {
        ctx.addIssue({ code: 'custom', path: ['processes', name], message: `"${spec.name}-${name}" must be at most 63 characters (it names the Consul service)` });
      }
    }
  });

export type AppSpec = z.output<typeof infraspecSchema>;

/** The image an app without a build section runs: its `image`, else `<name>:latest` as in Norn v2. */
export function prebuiltImage(spec: Pick<AppSpec, 'name' | 'image'>): string {
  return spec.image ?? `${spec.name}:latest`;
}
export type Process = AppSpec['processes'][string];
export type ProcessKind = 'service' | 'scheduled' | 'function';

/** How a process runs: `schedule` makes a periodic job, `function` an on-demand one, anything else a service. */
export function processKind(p: Pick<Process, 'schedule' | 'function'>): ProcessKind {
  if (p.schedule !== undefined) return 'scheduled';
  if (p.function !== undefined) return 'function';
  return 'service';
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function isEndpointUrl(value: string): boolean {
  if (!value.includes('://')) return value.length <= 253 && HOSTNAME.test(value);
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && HOSTNAME.test(url.hostname);
  } catch {
    return false;
  }
}

function compiles(pattern: string): boolean {
  try {
    picomatch.makeRe(pattern);
    return true;
  } catch {
    return false;
  }
}
