// The live child processes of this service, each the leader of its own process group, so that shutdown can end
// them and everything they started (git's remote helpers, ssh, pg_dump's children). Built once in the composition
// root and handed to the command runner; `killAll` runs when the service closes.

export class ChildProcesses {
  private readonly live = new Map<number, Promise<void>>();

  constructor(private readonly config: { killGraceMs: number } = { killGraceMs: 5000 }) {}

  /** Tracks the group led by `pid` until `exited` settles. */
  track(pid: number, exited: Promise<void>): void {
    this.live.set(pid, exited);
    void exited.finally(() => this.live.delete(pid));
  }

  get count(): number {
    return this.live.size;
  }

  /** SIGTERM to every tracked group, SIGKILL to those still running after the grace period. */
  async killAll(): Promise<void> {
    const entries = [...this.live.entries()];
    if (entries.length === 0) return;
    for (const [pid] of entries) killGroup(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.killGraceMs)));
    await Promise.race([Promise.all(entries.map(([, exited]) => exited)), grace]);
    clearTimeout(timer);
    for (const [pid] of entries) killGroup(pid, 'SIGKILL');
  }
}

/** Signals the whole process group led by `pid`; a group that is already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has exited. EPERM cannot happen for our own children.
  }
}
