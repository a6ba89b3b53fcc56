// Where `norn deploy` sends what it sees: raw envelopes (--json), plain lines (not a terminal), or a redrawn
// frame with a spinner (a terminal). Frames are written only to a TTY; pipes get lines they can grep.
import type { Output } from './api-command.js';
import type { Envelope } from './api-types.js';
import type { DeployProgress } from './deploy-progress.js';
import { frameLines, plainLines } from './deploy-render.js';
import { oneLine, rawOutput } from './terminal-text.js';

export interface DeployView {
  /** After `progress` has applied `env`. */
  show(env: Envelope): void;
  /** A passing remark, e.g. that the connection dropped and is being resumed. */
  notice(text: string): void;
  close(): void;
}

export type ViewMode = 'json' | 'plain' | 'tty';

export function deployView(mode: ViewMode, ctx: { app: string; progress: DeployProgress; out: Output; err: Output }): DeployView {
  const { out, err } = ctx;
  if (mode === 'json') {
    return { show: (env) => void out.write(`${JSON.stringify(env)}\n`), notice: (t) => void err.write(`norn: ${t}\n`), close: () => {} };
  }
  if (mode === 'plain') {
    return {
      show: (env) => {
        for (const line of plainLines(env, ctx.progress)) out.write(`${line}\n`);
      },
      notice: (t) => void err.write(`norn: ${t}\n`),
      close: () => {},
    };
  }
  return new TtyFrames(ctx.app, ctx.progress, out);
}

const FRAME_INTERVAL_MS = 100;

/** Redraws the whole frame in place: cursor up over the previous frame, clear below, write the new one. */
class TtyFrames implements DeployView {
  private tick = 0;
  private drawn = 0;
  private noticeText?: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly app: string,
    private readonly progress: DeployProgress,
    private readonly out: Output,
  ) {
    this.timer = setInterval(() => this.draw(), FRAME_INTERVAL_MS);
    this.timer.unref();
    this.draw();
  }

  show(): void {
    this.noticeText = undefined;
    this.draw();
  }

  notice(text: string): void {
    this.noticeText = text;
    this.draw();
  }

  close(): void {
    clearInterval(this.timer);
    this.draw();
  }

  private draw(): void {
    const width = Math.max(20, (this.out.columns || 100) - 1); // 0 or undefined: a pty with no size
    // Escaped before the lines are cut to the width, so the frame's height (what the next redraw moves up over) holds.
    const lines = frameLines(this.app, this.progress, { now: Date.now(), tick: this.tick++, notice: this.noticeText })
      .map(oneLine)
      .map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    // Our own cursor movements go to the raw stream; the frame's text is escaped like every other output.
    rawOutput(this.out).write(`${up}\x1b[0J${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
