// A PipelineReporter that keeps what the runner reported in memory, for runner tests that do not need the deploy
// lifecycle and its store behind it.
import type { PipelineReporter, StepEnd } from '../../src/pipeline/run-pipeline.js';
import type { StepName, StepProgress } from '../../src/pipeline/step.js';

export class RecordingPipelineReporter implements PipelineReporter {
  readonly started: StepName[] = [];
  readonly ended: { step: StepName; end: StepEnd }[] = [];
  readonly progressLines: { step: StepName; message: string; progress?: StepProgress }[] = [];

  async stepStarted(step: StepName): Promise<void> {
    this.started.push(step);
  }
  progress(step: StepName, message: string, progress?: StepProgress): void {
    this.progressLines.push({ step, message, progress });
  }
  stepEnded(step: StepName, end: StepEnd): void {
    this.ended.push({ step, end });
  }
  async settled(): Promise<void> {}

  /** How the named step ended, or undefined when it never ended. */
  endOf(step: StepName): StepEnd | undefined {
    return this.ended.find((e) => e.step === step)?.end;
  }
}
