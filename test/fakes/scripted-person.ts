// The person at the terminal, scripted: `answer` is what they type at every question (null: nobody is there, the
// terminal is not interactive); the questions they were asked are kept.
import type { Confirmer } from '../../src/cli/confirm.js';

export function scriptedPerson(answer: string | null): Confirmer & { questions: string[] } {
  const questions: string[] = [];
  return { isInteractive: answer !== null, questions, ask: async (q) => (questions.push(q), answer ?? '') };
}
