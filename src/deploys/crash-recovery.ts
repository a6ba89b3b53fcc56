// What a receiver that died mid-deploy left behind: work dirs no running deploy owns, and the instances an
// interrupted deploy had started. The deploy itself is ended as interrupted by the scheduler (the lifecycle's
// `interrupt`); these settle the rest.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import type { RuntimeSource } from '../pipeline/runtime.js';
import { removeWorkDir } from '../pipeline/steps/cleanup.js';
import type { DeployHistory } from './deploy-history.js';
import type { DeployRecord } from './deploy-record.js';

/** Work dirs (named by saga id) whose deploy is not running belong to a process that died mid-deploy: removed. */
export async function removeOrphanWorkDirs(workRoot: string, history: Pick<DeployHistory, 'list'>, log: Logger): Promise<void> {
  const running = new Set((await history.list({ status: 'running', limit: 10_000 })).map((d) => d.id));
  for (const entry of await fs.readdir(workRoot)) {
    if (running.has(entry)) continue;
    await fs.rm(path.join(workRoot, entry), { recursive: true, force: true }).catch((err) => log.warn({ err: errorMessage(err), entry }, 'could not remove an orphan work dir'));
  }
}

/**
 * After the scheduler ended a dead receiver's deploy as interrupted: its work dir goes, and the runtime settles what
 * the deploy had started so exactly one version runs; the saga says what was kept.
 */
export async function settleInterrupted(d: DeployRecord, deps: { workRoot: string; runtime: Pick<RuntimeSource, 'current'>; sagaLog: SagaLog; log: Logger }): Promise<void> {
  await removeWorkDir(deps.workRoot, d.id);
  try {
    const said = await (await deps.runtime.current())?.recoverInterrupted(d);
    if (said) await deps.sagaLog.append({ sagaId: d.id, app: d.app, source: 'runtime', category: 'runtime', action: 'runtime.recovered', message: said, metadata: {} });
  } catch (err) {
    deps.log.error({ err: errorMessage(err), sagaId: d.id }, 'could not settle the instances of an interrupted deploy');
  }
}
