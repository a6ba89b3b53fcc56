// The composition root: config -> store -> clients -> services -> HTTP server + scheduler. It wires and holds no
// rules of its own. Every client of an outside system (git, Docker, Nomad, Consul, PostgreSQL admin, cloudflared's
// file, the forges' status APIs) is built here, once, and handed to what uses it. The clients open their own
// connections inside (PostgresAdmin one per operation, the status clients through fetch), and so does PgEventRelay:
// one LISTEN connection of its own.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AppCatalog } from './apps/app-catalog.js';
import { ensureApiTokenFile } from './config/api-token-file.js';
import type { Config } from './config/load-config.js';
import { DeliveryLedger } from './deliveries/delivery-ledger.js';
import { DeliveryReceiver } from './deliveries/delivery-receiver.js';
import { LedgerMaintenance } from './deliveries/ledger-maintenance.js';
import { RejectionThrottle } from './deliveries/rejection-throttle.js';
import { removeOrphanWorkDirs, settleInterrupted } from './deploys/crash-recovery.js';
import { deployExecution, runStepsOf, type Pipelines } from './deploys/deploy-execution.js';
import { DeployHistory } from './deploys/deploy-history.js';
import { DeployLifecycle } from './deploys/deploy-lifecycle.js';
import { DeployScheduler } from './deploys/deploy-scheduler.js';
import { ManualDeploy } from './deploys/manual-deploy.js';
import { ManualPreflight } from './deploys/manual-preflight.js';
import { imagePresence } from './deploys/image-presence.js';
import { queueRollback } from './deploys/queue-rollback.js';
import { rollbackOrderOf } from './pipeline/rollback-order.js';
import { RollbackPlanner } from './deploys/rollback-plan.js';
import { CommitOrder } from './events/commit-order.js';
import { changesWhatRuns } from './events/deploy-queued.js';
import { LiveHub } from './events/live-hub.js';
import { PgEventRelay } from './events/pg-event-relay.js';
import { SagaLog } from './events/saga-log.js';
import { errorMessage } from './errors.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { createApp, type RouteEntry } from './http/create-app.js';
import { integrationChecks } from './health/integration-checks.js';
import { checkIntegrations } from './health/integration-report.js';
import { logIntegrationReport } from './health/log-integration-report.js';
import { GitClient } from './integrations/git/git-client.js';
import { RepoCache } from './integrations/git/repo-cache.js';
import { deployPipeline, preflightPipeline, rollbackPipeline, workRootOf } from './pipeline/deploy-pipeline.js';
import { NomadClient } from './integrations/nomad/nomad-client.js';
import { ConsulClient } from './integrations/consul/consul-client.js';
import { CloudflaredIngress } from './pipeline/ingress/cloudflared-ingress.js';
import { endpointApiRoutes } from './http/routes/endpoint-api-routes.js';
import { appOpsRoutes } from './http/routes/app-ops-routes.js';
import { secretRoutes } from './http/routes/secret-routes.js';
import { AppSecretEditor } from './operations/edit-app-secret.js';
import { instanceRoutes } from './http/routes/instance-routes.js';
import { operateRoutes } from './http/routes/operate-routes.js';
import { OperationRunner } from './operations/operation-runner.js';
import { runRoutes } from './http/routes/run-routes.js';
import { preflightRoutes } from './http/routes/preflight-routes.js';
import { canaryRoutes } from './http/routes/canary-routes.js';
import { rollbackRoutes } from './http/routes/rollback-routes.js';
import { DEFAULT_RUN_TIMEOUT_MS, ProcessRuns } from './runs/process-runs.js';
import { ScheduleRunner } from './runs/schedule-runner.js';
import { SchedulePauses } from './runs/schedule-pauses.js';
import { ScheduleClaims } from './runs/schedule-claims.js';
import { ProcessVerbs } from './runs/process-verbs.js';
import { processVerbRoutes } from './http/routes/process-verb-routes.js';
import { NomadBatchJobs } from './runtime/nomad-batch-jobs.js';
import { createStore, type Store } from './store/create-store.js';
import { wireMetrics } from './metrics/wire-metrics.js';
import { wireStatusOutbox } from './statuses/wire-status-outbox.js';
import { createStatusClients } from './integrations/forge-status/create-status-clients.js';
import { snapshotRoutes } from './http/routes/snapshot-routes.js';
import { snapshotTransferRoutes } from './http/routes/snapshot-transfer-routes.js';
import { withMigrationLock } from './pipeline/migrations/apply-migrations.js';
import { importSnapshot } from './snapshots/import-snapshot.js';
import { takeManualSnapshot } from './snapshots/manual-snapshot.js';
import { createCommandRunner } from './integrations/process/run-command.js';
import { ChildProcesses } from './integrations/process/child-processes.js';
import { PostgresAdmin } from './integrations/postgres/postgres-admin.js';
import { unconfiguredPostgres } from './integrations/postgres/unconfigured-postgres.js';
import { createDockerClients } from './integrations/docker/create-docker-client.js';
import { sopsSecretsLoader } from './apps/app-secrets.js';
import { submitConfigOf, wireRuntime } from './runtime/wire-runtime.js';
import { registryHostOf } from './integrations/docker/image-name.js';
import type { SelectedRuntime } from './runtime/select-runtime.js';
import { restoreSnapshot } from './snapshots/restore-snapshot.js';
import { SnapshotStore } from './snapshots/snapshot-store.js';
import { createForgeAdapters } from './webhooks/forge-adapters.js';
import { inlineParser, threadParser, type ThreadExit } from './webhooks/delivery-parser.js';
import { secretRedactor, type SecretRedactor } from './redaction/secret-redactor.js';

export interface RunningService {
  readonly url: string;
  readonly store: Store;
  readonly scheduler: DeployScheduler;
  readonly catalog: AppCatalog;
  readonly sagaLog: SagaLog;
  /** Where apps run, and why that runtime was chosen (`describe()`). */
  readonly runtime: SelectedRuntime;
  /** Every route the HTTP API registered, public or behind the token. */
  readonly routeTable: readonly RouteEntry[];
  close(): Promise<void>;
}

export async function startService(config: Config, deps: { log: Logger; redactor?: SecretRedactor }): Promise<RunningService> {
  const { log } = deps;
  // One redaction step for text from other systems (saga log, deploy errors, commit-status errors, API answers).
  const redactor = deps.redactor ?? secretRedactor(config);
  const workRoot = workRootOf(config);
  await fs.mkdir(workRoot, { recursive: true });
  const apiToken = await resolveApiToken(config, log);
  // A generated token is no setting the redactor was built from: it learns it here.
  if (!config.apiToken) redactor.remember([apiToken]);
  const store = await createStore({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'norn.sqlite'), backgroundCheckpoints: true }, { log });
  const { knex } = store;
  const sagaLog = new SagaLog({ knex, redactor });
  // Commit statuses are written by a projector inside each append's transaction: register it before any append.
  const statusClients = createStatusClients(config.statuses, { log: log.child({ component: 'status-outbox' }), fetch });
  const statuses = wireStatusOutbox({ knex, sagaLog, log, config, clients: statusClients, redact: (text) => redactor.redact(text) });
  // On PostgreSQL transactions commit out of seq order: live events pass through a reorder step first. SQLite has
  // one writer, so its commits are in seq order already.
  const ordered = store.client === 'postgres' ? new CommitOrder({ graceMs: 100, maxHoldMs: 10_000, pollMs: 25 }, { sagaLog, log }) : undefined;
  await ordered?.start();
  const hub = new LiveHub({ maxBufferedBytes: 1024 * 1024, maxReplay: 10_000 }, { sagaLog, log, ordered });
  // Receivers sharing one PostgreSQL relay their events to each other, so any receiver's /ws sees every event.
  const relay = ordered
    ? new PgEventRelay({ databaseUrl: config.databaseUrl!, origin: randomUUID() }, { sagaLog, publish: (events) => ordered.accept(events), log })
    : undefined;
  await relay?.start();
  const ledger = new DeliveryLedger({ knex, batched: true });
  const lifecycle = new DeployLifecycle({ knex, sagaLog, isPostgres: store.client === 'postgres', log });
  const history = new DeployHistory({ knex });
  const catalog = new AppCatalog({ appsDir: config.appsDir }, { log });
  const loaded = await catalog.load();
  for (const e of loaded.errors) log.warn({ file: e.file, path: e.path }, `invalid app spec: ${e.reason}`);
  catalog.start();

  // Every child process (git, pg_dump, the cloudflared reload) is tracked here, so shutdown kills what is left.
  const children = new ChildProcesses();
  const runner = createCommandRunner({ children });
  const git = new GitClient(
    { token: config.gitToken, sshKeyPath: config.gitSshKey, knownHostsPath: config.gitKnownHosts, commandTimeoutMs: config.gitTimeoutMs, allowHttpCredentials: config.gitAllowHttpCredentials },
    { runner },
  );
  const repoCache = config.gitCache
    ? new RepoCache(
        { dir: config.gitCache.dir, maxBytes: config.gitCache.maxBytes, lockTimeoutMs: config.cloneTimeoutMs },
        {
          git,
          onEvictError: (err, entry) => log.warn({ err: errorMessage(err), entry }, 'could not remove a cached repository'),
          onTreeError: (err, entry) => log.warn({ err: errorMessage(err), entry }, 'dropped a cached work tree (the next deploy writes a whole one)'),
        },
      )
    : undefined;
  const clock = () => new Date();
  const postgres = config.postgresUrl
    ? new PostgresAdmin({ adminUrl: config.postgresUrl, env: { PATH: config.env.PATH } }, { runner })
    : unconfiguredPostgres;
  const snapshots = new SnapshotStore({ knex });
  const { engine: docker, containers } = createDockerClients({ dockerHost: config.dockerHost });
  const nomad = new NomadClient(
    { address: config.nomad.address, token: config.nomad.token, namespace: config.nomad.namespace, region: config.nomad.region, tls: config.nomad.tls },
    { fetch, log },
  );
  const ingress = new CloudflaredIngress(
    { configPath: config.cloudflared.configPath, reloadCommand: config.cloudflared.reloadCommand, reloadTimeoutMs: config.cloudflared.reloadTimeoutMs },
    { runner, log },
  );
  const consul = config.consul.address ? new ConsulClient({ address: config.consul.address, token: config.consul.token }, { fetch }) : undefined;
  const pauses = new SchedulePauses({ knex });
  const runtime = wireRuntime(config, {
    nomad,
    consul,
    containers,
    loadSecrets: sopsSecretsLoader(config.ageKeys, (values) => redactor.remember(values)),
    submitConfig: submitConfigOf(config),
    specOf: (name) => catalog.get(name)?.spec,
    lastGoodImage: (name) => history.lastSucceededImage(name),
    sagaActions: async (sagaId) => (await sagaLog.forSaga(sagaId)).map((e) => e.action),
    routedServices: async (name) => (await ingress.listRules()).rules.filter((r) => r.owner === name && r.service).map((r) => r.service!),
    pausedSchedules: async (name) => new Set((await pauses.ofApp(name)).keys()),
    log,
  });
  const runs = new ProcessRuns({ runtime, sagaLog, currentImage: (name) => history.lastSucceededImage(name), log });
  // A claim outlives no run: a scheduled run's deadline is DEFAULT_RUN_TIMEOUT_MS; a day of claims is kept to read.
  const claims = new ScheduleClaims({ staleAfterMs: DEFAULT_RUN_TIMEOUT_MS + 60_000, keepMs: 24 * 3600_000 }, { knex });
  const schedules = new ScheduleRunner({ catalog, runtime, runs, pauses, claims, log });
  const processVerbs = new ProcessVerbs({
    runtime,
    runs,
    pauses,
    sagaLog,
    nomadJobs: new NomadBatchJobs({ nomad, pollWaitMs: config.nomad.blockingWaitMs }),
    currentImage: (name) => history.lastSucceededImage(name),
    clock: () => new Date(),
    log,
  });
  const choice = await runtime.describe();
  log.info({ runtime: choice.runtime ?? 'none' }, `runtime: ${choice.reason}`);
  const clients = { git, repoCache, docker, postgres, snapshots, runtime, ingress, log };
  const integrationReport = () =>
    checkIntegrations(
      integrationChecks(config, { runtime, nomad, docker, postgres: postgres instanceof PostgresAdmin ? postgres : undefined, ingress, consul, fetch }, { timeoutMs: config.probeTimeoutMs }),
      { timeoutMs: config.probeTimeoutMs },
    );
  const pipeline = deployPipeline(config, clients);
  const preflight = preflightPipeline(config, clients, pipeline);

  const pipelines: Pipelines = {
    deploy: pipeline,
    preflight,
    // A rollback's order (image, snapshot to restore) was recorded with it when it was queued.
    rollback: async (deploy) => {
      const order = rollbackOrderOf(await sagaLog.forSaga(deploy.id));
      return order ? rollbackPipeline(config, clients, pipeline, order) : 'this rollback has no rollback.planned event to say which image to run; request it again with norn rollback';
    },
  };

  const scheduler = new DeployScheduler(
    { maxConcurrent: config.maxConcurrentDeploys, leaseMs: config.leaseMs, pollIntervalMs: config.pollIntervalMs },
    {
      lifecycle,
      history,
      log,
      execute: deployExecution({ catalog, lifecycle, pipelines, log, redact: (text) => redactor.redact(text) }),
      onInterrupted: (d) => settleInterrupted(d, { workRoot, runtime, sagaLog, log }),
    },
  );
  const metrics = wireMetrics(
    { apiToken, isPublic: config.metricsPublic },
    {
      queueDepth: async () => (await history.countByStatus()).queued ?? 0,
      runningDeploys: async () => (await history.countByStatus()).running ?? 0,
      websocketClients: () => hub.clientCount,
      statusOutboxBacklog: () => statuses.outbox.backlog(),
    },
  );
  // The local log only: events relayed from other receivers are counted by the receiver that produced them.
  sagaLog.subscribe(metrics.onSagaEvents);
  // One CPU: a thread of its own would only take turns with the main thread, at the cost of the messages between them.
  const deliveryParser = availableParallelism() > 1 ? threadParser({ onExit: (exit) => logParseThreadExit(log, exit) }) : inlineParser();
  const receiver = new DeliveryReceiver(
    { webhookSecret: config.webhookSecret },
    {
      knex,
      adapters: createForgeAdapters(),
      catalog,
      ledger,
      queue: lifecycle,
      sagaLog,
      log,
      onQueued: () => scheduler.wake(),
      onAnswered: metrics.recordDelivery,
      throttle: new RejectionThrottle({ perMinute: config.rejectedPerMinute }),
      parser: deliveryParser,
    },
  );
  const ledgerMaintenance = new LedgerMaintenance({ retentionDays: config.ledgerRetentionDays }, { ledger, receiver, log });
  const manualDeploy = new ManualDeploy({ catalog, git, lifecycle, onQueued: () => scheduler.wake() });
  const manualPreflight = new ManualPreflight({ catalog, git, lifecycle, history, onQueued: () => scheduler.wake() });
  const rollbackPlanner = new RollbackPlanner({
    history: (name, limit) => history.list({ app: name, limit }),
    events: (sagaId) => sagaLog.forSaga(sagaId),
    snapshots: (name) => snapshots.listByApp(name, { includeDeleted: true }),
    restores: (name) => snapshots.listRestores(name),
    checkImage: imagePresence({ docker, registry: config.registryUrl ? { host: registryHostOf(config.registryUrl) ?? '', auth: config.registryAuth } : undefined }),
  });
  const rollbackApi = rollbackRoutes({
    catalog,
    plan: (req) => rollbackPlanner.plan(req),
    queue: async (plan) => (await queueRollback(plan, { knex, lifecycle, history, sagaLog, onQueued: () => scheduler.wake() })).id,
  });
  const snapshotApi = snapshotRoutes({
    catalog,
    snapshots,
    restore: config.postgresUrl
      ? (input) => restoreSnapshot(input, { snapshotsDir: config.snapshotsDir, postgres, snapshots, clock, isDeployRunning: (name) => history.isRunning(name) })
      : undefined,
  });
  /** Aborted first thing on close, so answers that never end by themselves (a followed log, a download) end. */
  const shuttingDown = new AbortController();
  const pgAdmin = postgres instanceof PostgresAdmin ? postgres : undefined;
  const snapshotTransferApi = snapshotTransferRoutes({
    shutdown: shuttingDown.signal,
    catalog,
    snapshots,
    sagaLog,
    importMaxBytes: config.snapshotImportMaxBytes,
    currentCommit: async (name) => (await history.live(name))?.commitSha,
    take: pgAdmin
      ? (input) =>
          takeManualSnapshot(input, {
            snapshotsDir: config.snapshotsDir,
            postgres: pgAdmin,
            snapshots,
            clock,
            withMigrationLock: (database, signal, work) => withMigrationLock(pgAdmin.clientConfig(database), signal, work),
            runningDeployStep: async (name) => (await history.list({ app: name, status: 'running', limit: 10 })).find((d) => changesWhatRuns(d.kind))?.currentStep ?? undefined,
          })
      : undefined,
    import: pgAdmin ? (input) => importSnapshot(input, { snapshotsDir: config.snapshotsDir, snapshots, clock, readArchive: (file, o) => pgAdmin.listArchive(file, o) }) : undefined,
  });
  const opsApi = appOpsRoutes({
    catalog,
    nomad,
    ageKeys: config.ageKeys,
    submitConfig: submitConfigOf(config),
    lastImage: (name) => history.lastSucceededImage(name),
    redact: (text) => redactor.redact(text),
    runtimeName: async () => (await runtime.current())?.name,
    dockerNetwork: config.docker.network,
  });
  const secretApi = secretRoutes({
    editor: new AppSecretEditor({ catalog, sagaLog, ageKeys: config.ageKeys, onValue: (value) => redactor.remember([value]) }),
  });
  const operations = new OperationRunner({ sagaLog, log });
  const operateApi = operateRoutes({
    shutdown: shuttingDown.signal,
    catalog,
    runtime,
    operations,
    isDeployRunning: (name) => history.isRunning(name),
    redactor,
    loadSecrets: sopsSecretsLoader(config.ageKeys, (values) => redactor.remember(values)),
    log,
  });
  const app = createApp(
    {
      apiToken,
      allowedOrigins: config.allowedOrigins,
      publicUrl: config.publicUrl,
      maxBodyBytes: config.maxBodyBytes,
      webhookBodyTimeoutMs: config.webhookBodyTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      webhookBufferBytes: config.webhookBufferBytes,
    },
    {
      catalog,
      ledger,
      receiver,
      deploys: history,
      sagaLog,
      manualDeploy,
      stepsOf: runStepsOf(pipelines),
      hub,
      log,
      redact: (text) => redactor.redact(text),
      extraRoutes: [snapshotApi, rollbackApi, snapshotTransferApi, endpointApiRoutes({ ingress }), opsApi, secretApi, instanceRoutes({ catalog, runtime, redact: (text) => redactor.redact(text) }), operateApi, runRoutes({ catalog, runs, verbs: processVerbs }), processVerbRoutes({ catalog, verbs: processVerbs }), preflightRoutes({ manualPreflight }), canaryRoutes({ catalog, runtime, history, sagaLog }), ...(config.metricsPublic ? [] : [metrics.route])],
      publicRoutes: [dashboardRoutes(), ...(config.metricsPublic ? [metrics.route] : [])],
      integrationReport,
      isHealthy: async () => {
        await knex.raw('select 1');
        return true;
      },
    },
  );

  await removeOrphanWorkDirs(workRoot, history, log);
  await scheduler.start();
  await statuses.start();
  schedules.start();
  ledgerMaintenance.start();
  const stopWorkers = async () => {
    await operations.close();
    await Promise.all([schedules.stop(), processVerbs.stop()]);
    await Promise.all([scheduler.stop(), children.killAll()]);
    await statuses.stop();
    await ledgerMaintenance.stop();
    await catalog.stop();
    await relay?.stop();
    ordered?.stop();
    await deliveryParser.close();
    await store.close();
  };
  const server = http.createServer(app.requestListener());
  app.ws.listen({ server });
  // ws re-emits the HTTP server's errors on its own emitter; the listen below reports them (a port in use).
  app.ws.server?.on('error', () => undefined);
  server.headersTimeout = 15_000;
  // Off: each request has its own deadline (http/request-deadline.ts), which a snapshot upload can stretch.
  server.requestTimeout = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    // Not serving: stop what was started, so `norn serve` exits with the error instead of hanging.
    app.ws.server?.close();
    await stopWorkers();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  log.info({ url, store: store.client, apps: loaded.apps.length }, 'norn receiver listening');
  // In the background: a slow integration must not hold up serving. Each probe has its own deadline.
  void integrationReport().then(
    (report) => logIntegrationReport(report, log),
    (err: unknown) => log.warn({ err: errorMessage(err) }, 'could not check the integrations'),
  );

  return {
    url,
    store,
    scheduler,
    catalog,
    sagaLog,
    runtime,
    routeTable: app.routeTable,
    async close() {
      shuttingDown.abort(new Error('the receiver is shutting down'));
      const drained = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        hub.closeAll();
        app.ws.server?.close();
      });
      // Deploys are aborted first (their children die with their abort, and they end as interrupted), then every
      // child process left dies, so a request waiting on git (a manual deploy's ls-remote) is answered at once
      // instead of holding the shutdown until its deadline.
      await scheduler.stop();
      await children.killAll();
      await drained;
      await stopWorkers();
    },
  };
}

function logParseThreadExit(log: Logger, exit: ThreadExit): void {
  const error = exit.error ? errorMessage(exit.error) : 'no error given';
  if (exit.wasReady) log.warn({ error }, 'the webhook parse thread stopped: the deliveries it held were parsed on the main thread, and another starts when deliveries come as fast again');
  else log.error({ error }, 'the webhook parse thread could not start: deliveries are parsed on the main thread until the receiver restarts (slower under load, same answers)');
}

/**
 * NORN_API_TOKEN, or else the token generated into the data dir: the API is never served without a token. Only
 * the file's path is logged.
 */
async function resolveApiToken(config: Config, log: Logger): Promise<string> {
  if (config.apiToken) return config.apiToken;
  const generated = await ensureApiTokenFile(config.dataDir);
  const file = generated.file;
  log.info({ file }, generated.created ? 'NORN_API_TOKEN is not set: generated an API token into this file (mode 0600); `norn` on this machine reads it, the dashboard asks for it once' : 'NORN_API_TOKEN is not set: the API token is the one in this file');
  if (generated.isExposed) log.warn({ file }, 'the API token file can be read by other users: chmod 600 it');
  if (config.databaseUrl) log.warn('receivers sharing one database each generate their own API token: set the same NORN_API_TOKEN on all of them');
  return generated.token;
}
