// Snapshots made and moved by hand, each recorded as an operation saga (its id in the answer, or in the
// X-Norn-Saga-Id header of a download):
//   POST /api/apps/:app/snapshots/take             dump the database now (same dump as the snapshot step)
//   GET  /api/apps/:app/snapshots/:ts/file         the dump file itself, streamed
//   POST /api/apps/:app/snapshots/import           upload a dump (Content-Type: application/octet-stream)
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import Router from '@koa/router';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { SagaLog } from '../../events/saga-log.js';
import { recordOperation } from '../../operations/operation-saga.js';
import type { ImportSnapshotInput } from '../../snapshots/import-snapshot.js';
import type { ManualSnapshotInput } from '../../snapshots/manual-snapshot.js';
import type { Snapshot, SnapshotStore } from '../../snapshots/snapshot-store.js';
import { allowSlowUpload } from '../request-deadline.js';
import { appFromParam } from './app-param.js';

export interface SnapshotTransferRouteDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly snapshots: Pick<SnapshotStore, 'findByTimestamp'>;
  readonly sagaLog: Pick<SagaLog, 'append'>;
  /** Undefined when no PostgreSQL admin URL is configured (no dump, no restore, so no import either). */
  readonly take?: (input: ManualSnapshotInput) => Promise<Snapshot>;
  readonly import?: (input: ImportSnapshotInput) => Promise<Snapshot>;
  /** NORN_SNAPSHOT_IMPORT_MAX_MB in bytes. */
  readonly importMaxBytes: number;
  /** The commit of the app's last succeeded deploy, recorded on a manual snapshot. */
  currentCommit(app: string): Promise<string | undefined>;
  /** Aborted when the receiver shuts down: a download still being read or an upload still arriving is cut then, so the close need not wait for it. */
  readonly shutdown?: AbortSignal;
}

const TS = /^\d{8}T\d{6}Z$/;
/** An optional name the client gives the uploaded file, for the saga only; the store never uses it as a path. */
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,199}$/;

export function snapshotTransferRoutes(deps: SnapshotTransferRouteDeps): Router {
  const r = new Router({ prefix: '/api/apps/:app/snapshots' });
  const appOf = (name: string | undefined): LoadedApp => appFromParam(deps.catalog, name);
  const databaseOf = (app: LoadedApp): string => {
    const database = app.spec.infrastructure?.postgres?.database;
    if (!database) throw new InvalidInputError('app', `${app.name} declares no infrastructure.postgres database, so it has no snapshots`, 409);
    return database;
  };
  const postgres = <T>(verb: T | undefined, what: string): T => {
    if (!verb) throw new InvalidInputError('postgres', `${what} needs NORN_POSTGRES_URL on the receiver`, 409);
    return verb;
  };

  r.post('/take', async (ctx) => {
    const app = appOf(ctx.params.app);
    const database = databaseOf(app);
    const take = postgres(deps.take, 'taking a snapshot');
    const commitSha = (await deps.currentCommit(app.name)) ?? null;
    const { sagaId, result } = await recordOperation(deps.sagaLog, { app: app.name, verb: 'snapshots take', summary: `snapshot database ${database} now`, metadata: { database } }, async (_report, sagaId) => {
      const snapshot = await take({ app: app.name, database, commitSha, sagaId });
      return { message: `snapshot ${snapshot.ts} of ${database} taken (${snapshot.size} bytes): ${path.basename(snapshot.path)}`, metadata: { ts: snapshot.ts, size: snapshot.size, path: snapshot.path }, result: snapshot };
    });
    ctx.status = 201;
    ctx.body = { sagaId, snapshot: result };
  });

  r.get('/:ts/file', async (ctx) => {
    const app = appOf(ctx.params.app);
    const ts = ctx.params.ts ?? '';
    if (!TS.test(ts)) throw new InvalidInputError('ts', 'must be a snapshot timestamp like 20261127T153000Z');
    const snapshot = await deps.snapshots.findByTimestamp(app.name, ts);
    if (!snapshot) throw new NotFoundError('snapshot', `${app.name}/${ts}`);
    const stat = await fs.stat(snapshot.path).catch(() => undefined);
    if (!stat?.isFile()) throw new NotFoundError('snapshot file', `${path.basename(snapshot.path)} (recorded, but gone from the snapshots dir)`);
    const stream = createReadStream(snapshot.path);
    const name = path.basename(snapshot.path);
    // The saga ends when the last byte left (or the client went away), so it starts before the body is sent.
    const sagaId = await new Promise<string>((resolve, reject) => {
      recordOperation(deps.sagaLog, { app: app.name, verb: 'snapshots export', summary: `download snapshot ${ts}`, metadata: { ts, size: stat.size } }, async (_report, id) => {
        resolve(id);
        const cut = () => ctx.res.destroy();
        deps.shutdown?.addEventListener('abort', cut, { once: true });
        try {
          await finished(ctx.res);
        } catch {
          const why = deps.shutdown?.aborted ? 'the receiver shut down' : 'the client went away';
          throw new Error(`snapshot ${ts} was not sent whole: ${why} before its last byte; download it again (norn snapshots ${app.name} export ${ts})`);
        } finally {
          deps.shutdown?.removeEventListener('abort', cut);
        }
        return { message: `snapshot ${ts} sent (${stat.size} bytes)`, metadata: { ts, size: stat.size }, result: undefined };
      }).catch((err: unknown) => {
        stream.destroy();
        reject(err);
      });
    });
    ctx.set('X-Norn-Saga-Id', sagaId);
    ctx.set('Content-Disposition', `attachment; filename="${name.replace(/["\\]/g, '_')}"`);
    ctx.type = 'application/octet-stream';
    ctx.length = stat.size;
    ctx.body = stream;
  });

  r.post('/import', async (ctx) => {
    const app = appOf(ctx.params.app);
    const database = databaseOf(app);
    const importer = postgres(deps.import, 'importing a snapshot (its file is checked with pg_restore, and restoring it needs the server)');
    if (ctx.get('Content-Type').split(';')[0]!.trim().toLowerCase() !== 'application/octet-stream') {
      throw new InvalidInputError('content-type', 'send the dump file as the body with Content-Type: application/octet-stream', 415);
    }
    const declared = Number(ctx.get('Content-Length') || 0);
    if (declared > deps.importMaxBytes) {
      ctx.req.resume();
      throw new InvalidInputError('file', `is larger than the import limit of ${Math.floor(deps.importMaxBytes / (1024 * 1024))} MiB (NORN_SNAPSHOT_IMPORT_MAX_MB on the receiver)`, 413);
    }
    const from = typeof ctx.query.name === 'string' ? ctx.query.name : undefined;
    if (from !== undefined && !SOURCE_NAME.test(from)) {
      ctx.req.resume();
      throw new InvalidInputError('name', 'must be a plain file name (letters, digits, space, _ . + -; no path), at most 200 characters');
    }
    // A dump of a real database takes longer to send than any JSON body: it may, as long as it keeps arriving.
    allowSlowUpload(ctx.req);
    const { sagaId, result } = await recordOperation(
      deps.sagaLog,
      { app: app.name, verb: 'snapshots import', summary: `import a snapshot of ${database}${from ? ` from ${from}` : ''}`, metadata: { database, ...(from ? { name: from } : {}) } },
      async (_report, sagaId) => {
        const snapshot = await importer({ app: app.name, database, body: ctx.req, maxBytes: deps.importMaxBytes, sagaId, ...(deps.shutdown ? { signal: deps.shutdown } : {}) }).catch((err: unknown) => {
          if (!deps.shutdown?.aborted) throw err;
          throw new InvalidInputError('file', `the receiver is shutting down, so the upload was cut off and nothing was kept; import it again once it is back (norn snapshots ${app.name} import <file>)`, 503);
        });
        return {
          message: `snapshot ${snapshot.ts} imported (${snapshot.size} bytes); restore it with norn snapshots ${app.name} restore ${snapshot.ts}`,
          metadata: { ts: snapshot.ts, size: snapshot.size, path: snapshot.path },
          result: snapshot,
        };
      },
    );
    ctx.status = 201;
    ctx.body = { sagaId, snapshot: result };
  });
  return r;
}
