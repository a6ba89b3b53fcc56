// Which runtime deploys go to, decided in one place (so `norn doctor` and /api/health can show the same answer):
// NORN_RUNTIME when set; otherwise Nomad when NOMAD_ADDR is set, else the Docker engine when one answers
// (DOCKER_HOST, or the local socket), else none, and deploys fail at submit with a message naming both settings.
import { errorMessage, StepFailedError } from '../errors.js';
import type { Runtime, RuntimeName } from '../pipeline/runtime.js';

export interface RuntimeSettings {
  /** NORN_RUNTIME */
  readonly runtime?: RuntimeName;
  readonly nomadAddressIsSet: boolean;
  /** DOCKER_HOST, or undefined for the local socket. */
  readonly dockerHost?: string;
}

export interface RuntimeChoice {
  readonly runtime: RuntimeName | undefined;
  /** Why, in a sentence an operator can act on. */
  readonly reason: string;
}

export async function chooseRuntime(settings: RuntimeSettings, deps: { engineAnswers(): Promise<true | string> }): Promise<RuntimeChoice> {
  if (settings.runtime) return { runtime: settings.runtime, reason: `NORN_RUNTIME=${settings.runtime}` };
  if (settings.nomadAddressIsSet) return { runtime: 'nomad', reason: 'NOMAD_ADDR is set (NORN_RUNTIME unset)' };
  const engine = settings.dockerHost ?? 'the local socket (/var/run/docker.sock)';
  const answer = await deps.engineAnswers().catch((err: unknown) => errorMessage(err));
  if (answer === true) return { runtime: 'docker', reason: `the Docker engine at ${engine} answers (NORN_RUNTIME and NOMAD_ADDR unset)` };
  return {
    runtime: undefined,
    reason:
      `no runtime to deploy to: NOMAD_ADDR is not set and no Docker engine answers at ${engine} (${answer}). ` +
      'Start Docker or set DOCKER_HOST for the Docker runtime, or set NOMAD_ADDR (or NORN_RUNTIME=nomad) for Nomad',
  };
}

/**
 * The runtime the service uses: chosen at start-up, and chosen again at the next deploy while none was found (an
 * engine started after the receiver is picked up without a restart).
 */
export class SelectedRuntime {
  private choice: RuntimeChoice | undefined;
  private readonly built = new Map<RuntimeName, Runtime>();

  constructor(
    private readonly settings: RuntimeSettings,
    private readonly deps: { engineAnswers(): Promise<true | string>; build(name: RuntimeName): Runtime },
  ) {}

  /** A choice being made: callers that ask meanwhile share its engine probe instead of each sending one. */
  private choosing: Promise<RuntimeChoice> | undefined;

  /** The current choice; chooses again while there is none. */
  async describe(): Promise<RuntimeChoice> {
    if (this.choice?.runtime) return this.choice;
    this.choosing ??= chooseRuntime(this.settings, this.deps).finally(() => (this.choosing = undefined));
    this.choice = await this.choosing;
    return this.choice;
  }

  /** The chosen runtime, or undefined (with `describe()` saying why). */
  async current(): Promise<Runtime | undefined> {
    const { runtime } = await this.describe();
    if (!runtime) return undefined;
    let r = this.built.get(runtime);
    if (!r) {
      r = this.deps.build(runtime);
      this.built.set(runtime, r);
    }
    return r;
  }

  /** The chosen runtime, or a StepFailedError of `step` saying how to get one. */
  async require(step: string): Promise<Runtime> {
    const r = await this.current();
    if (!r) throw new StepFailedError(step, (await this.describe()).reason);
    return r;
  }
}
