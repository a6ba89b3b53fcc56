// Stands in for our DockerEngine where the engine is not what a test is about: it records the images it was asked
// to remove, and can fail the way the real client does when the engine does not answer.
import { UpstreamError } from '../../src/errors.js';
import type { DockerEngine } from '../../src/integrations/docker/docker-engine.js';

export class FakeDockerEngine implements Pick<DockerEngine, 'removeImage'> {
  /** The image references passed to removeImage, in order, failed attempts included. */
  readonly removeImageCalls: string[] = [];
  private engineDown = false;

  /** From now on every call fails as it does when the engine is unreachable. */
  stopEngine(): void {
    this.engineDown = true;
  }

  async removeImage(ref: string): Promise<void> {
    this.removeImageCalls.push(ref);
    if (this.engineDown) throw new UpstreamError('docker', 'remove image', 0, 'connect ENOENT /run/norn-docker.sock');
  }
}
