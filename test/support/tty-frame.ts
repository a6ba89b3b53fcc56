// What a terminal shows last of `norn deploy|preflight|rollback`: the view redraws its whole frame in place, each
// frame after a clear-below sequence, so the final screen is the text after the last one.

export function lastFrame(out: string): string[] {
  const start = out.lastIndexOf('\x1b[0J');
  if (start < 0) throw new Error(`no frame was drawn (was the output a TTY?): ${JSON.stringify(out.slice(0, 200))}`);
  return out.slice(start + '\x1b[0J'.length).split('\n').filter((l) => l !== '');
}

/** The steps a frame lists, in order: its lines indented by two with a state icon (progress lines are indented by six). */
export function frameSteps(frame: readonly string[]): string[] {
  return frame.flatMap((line) => /^ {2}\S (\S+)/.exec(line)?.[1] ?? []);
}
