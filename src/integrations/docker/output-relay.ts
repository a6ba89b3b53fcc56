// Turns the raw text a build, push or test container writes into progress reports a person can follow: lines are
// gathered and sent at most once per interval (a noisy build must not flood the saga log or the WebSocket), while
// milestone lines (`Step 3/5 : RUN ...`) go out at once. The last lines are kept for the failure message.

export interface OutputRelayConfig {
  /** Least time between two reports of ordinary lines. */
  readonly intervalMs: number;
  /** How many of the last lines `tail()` keeps. */
  readonly tailLines: number;
  /** The most lines one report carries; older pending lines are counted, not sent. */
  readonly maxLinesPerReport?: number;
  /** Lines reported at once, without waiting for the interval. */
  readonly isMilestone?: (line: string) => boolean;
}

export interface OutputRelayDeps {
  readonly report: (message: string, metadata?: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export class OutputRelay {
  /** Unfinished last line per source (stdout and stderr arrive interleaved, each in its own chunks). */
  private readonly partials = new Map<string, string>();
  private pending: string[] = [];
  private dropped = 0;
  private readonly kept: string[] = [];
  private lastReportAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: OutputRelayConfig,
    private readonly deps: OutputRelayDeps,
  ) {}

  /** Feeds a chunk of text from `source`; it may hold several lines or end mid-line. */
  write(text: string, source = ''): void {
    const parts = ((this.partials.get(source) ?? '') + text).split('\n');
    this.partials.set(source, parts.pop() ?? '');
    for (const part of parts) this.line(part);
  }

  /** Reports what is still pending (including an unfinished last line) and stops the timer. */
  close(): void {
    for (const rest of this.partials.values()) if (rest !== '') this.line(rest);
    this.partials.clear();
    this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The last lines seen, oldest first. */
  tail(): string {
    return this.kept.join('\n');
  }

  private line(raw: string): void {
    // Progress bars redraw with \r; only the last state of the line is worth keeping.
    const line = (raw.split('\r').filter((s) => s.trim() !== '').pop() ?? '').trimEnd();
    if (line === '') return;
    this.kept.push(line);
    if (this.kept.length > this.config.tailLines) this.kept.shift();
    if (this.config.isMilestone?.(line)) {
      this.flush();
      this.send([line]);
      return;
    }
    this.pending.push(line);
    const max = this.config.maxLinesPerReport ?? 20;
    if (this.pending.length > max) {
      this.pending.shift();
      this.dropped += 1;
    }
    const wait = this.lastReportAt + this.config.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const lines = this.dropped > 0 ? [`(${this.dropped} lines not shown)`, ...this.pending] : this.pending;
    this.pending = [];
    this.dropped = 0;
    this.send(lines);
  }

  private send(lines: string[]): void {
    this.lastReportAt = this.now();
    this.deps.report(lines.join('\n'), { lines: lines.length });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
