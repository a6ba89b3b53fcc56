// A live client the hub can write to without a network: it keeps every envelope sent, and a test sets
// `bufferedAmount` to play a client that reads too slowly.
import type { LiveSocket } from '../../src/events/live-hub.js';

export class RecordingSocket implements LiveSocket {
  readonly sent: { seq: number; appId: string }[] = [];
  bufferedAmount = 0;
  readyState = 1;
  terminated = false;
  send(data: string) {
    this.sent.push(JSON.parse(data) as { seq: number; appId: string });
  }
  close() {
    this.readyState = 3;
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
  on() {
    return this;
  }
  /** The seq of each envelope sent, in order. */
  get seqs(): number[] {
    return this.sent.map((e) => e.seq);
  }
}
