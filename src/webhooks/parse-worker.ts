// The thread that parses verified deliveries for the receiver (see delivery-parser.ts): the same adapters and the
// same errors, a batch of deliveries per message. It touches no store and no network; the webhook secret it is sent
// goes into the signature check and nowhere else.
import { parentPort } from 'node:worker_threads';
import { createForgeAdapters } from './forge-adapters.js';
import { replyOf, verifyThenParse, type ParseBatch, type ParseRequest, type ParseThreadMessage } from './delivery-parser.js';

const adapters = createForgeAdapters();
const port = parentPort!;

async function parse(request: ParseRequest) {
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  return replyOf(await verifyThenParse(adapters[request.forge], { headers: request.headers, body }, request.secret));
}

port.on('message', (batch: ParseBatch) => {
  void Promise.all(batch.requests.map(parse)).then((replies) => port.postMessage({ id: batch.id, replies } satisfies ParseThreadMessage));
});
port.postMessage({ ready: true } satisfies ParseThreadMessage);
