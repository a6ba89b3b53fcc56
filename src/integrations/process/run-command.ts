// Runs a child process without a shell and reports how it ended. The runner never throws for a non-zero exit:
// callers decide (most wrap it in CommandError with `commandFailed`). It rejects only when the process could not
// be started, or with the signal's reason when the caller aborted it.
// Secrets go in `env` (or a file the env points at), never in `argv`: argv shows up in `ps`, errors and events.
// Each child leads its own process group, and a timeout, an abort or the service's shutdown signals the whole group:
// what the child started (git's remote helpers, ssh) dies with it instead of being re-parented to PID 1.
import { spawn } from 'node:child_process';
import { CommandError } from '../../errors.js';
import { killGroup, type ChildProcesses } from './child-processes.js';

export interface RunOptions {
  /** The child's whole environment (not merged with process.env; pass what it needs, e.g. PATH). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Aborting kills the child; the run then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Kills the child after this long; the result then has `timedOut: true` and `exitCode: null`. */
  readonly timeoutMs?: number;
}

export interface CommandResult {
  /** null when the child was ended by a signal (including our own timeout). */
  readonly exitCode: number | null;
  readonly stdout: string;
  /** The last few KB of stderr, enough for an error message. */
  readonly stderrTail: string;
  readonly timedOut: boolean;
}

export type CommandRunner = (argv: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export interface CommandRunnerConfig {
  /** Bytes of stderr kept (from the end). */
  readonly stderrTailBytes?: number;
  /** Bytes of stdout kept (from the start); the rest is dropped. */
  readonly stdoutMaxBytes?: number;
  /** Time between SIGTERM and SIGKILL when killing a child. */
  readonly killGraceMs?: number;
  /** Where live children are tracked, so shutdown can kill them (the composition root's one instance). */
  readonly children?: ChildProcesses;
}

export function createCommandRunner(config: CommandRunnerConfig = {}): CommandRunner {
  const tailBytes = config.stderrTailBytes ?? 8192;
  const stdoutMax = config.stdoutMaxBytes ?? 1024 * 1024;
  const graceMs = config.killGraceMs ?? 5000;

  return (argv, options = {}) =>
    new Promise<CommandResult>((resolve, reject) => {
      const [file, ...args] = argv;
      if (!file) return reject(new CommandError(argv, null, 'empty argv'));
      if (options.signal?.aborted) return reject(options.signal.reason);

      const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const pid = child.pid;
      let killRequested = false;
      if (pid !== undefined) config.children?.track(pid, new Promise((resolve) => child.once('close', () => resolve())));
      let stdout = Buffer.alloc(0);
      let stderr = Buffer.alloc(0);
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;

      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < stdoutMax) stdout = Buffer.concat([stdout, chunk]).subarray(0, stdoutMax);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = Buffer.concat([stderr, chunk]);
        if (stderr.length > tailBytes) stderr = stderr.subarray(stderr.length - tailBytes);
      });

      const signalGroup = (signal: NodeJS.Signals) => (pid === undefined ? child.kill(signal) : killGroup(pid, signal));
      const kill = () => {
        killRequested = true;
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        killTimer.unref();
      };
      const timeout = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, options.timeoutMs)
        : undefined;
      options.signal?.addEventListener('abort', kill, { once: true });

      const finish = () => {
        clearTimeout(timeout);
        clearTimeout(killTimer);
        options.signal?.removeEventListener('abort', kill);
      };
      child.on('error', (err) => {
        finish();
        reject(new CommandError(argv, null, `could not start: ${err.message}`, { cause: err }));
      });
      child.on('close', (code) => {
        finish();
        // The leader is gone; anything of its group that ignored SIGTERM goes now.
        if (killRequested) signalGroup('SIGKILL');
        if (options.signal?.aborted) return reject(options.signal.reason);
        const tail = stderr.toString('utf8');
        resolve({
          exitCode: code,
          stdout: stdout.toString('utf8'),
          stderrTail: timedOut ? `${tail}\n(timed out after ${options.timeoutMs} ms)` : tail,
          timedOut,
        });
      });
    });
}

/** The CommandError for a run that did not exit 0. */
export function commandFailed(argv: readonly string[], result: CommandResult): CommandError {
  return new CommandError(argv, result.exitCode, result.stderrTail);
}
