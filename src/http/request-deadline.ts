// How long a request may take to arrive (NORN_REQUEST_TIMEOUT_SECONDS). Node's own limit (server.requestTimeout)
// cuts every request at one deadline, and the upload of a large snapshot cannot meet a deadline meant for JSON
// bodies; so the server runs without it and each request gets this one instead: the whole request within the
// limit, unless its route lets the upload take as long as it keeps moving (`allowSlowUpload`: then the limit is
// how long it may send nothing). Past it the sender is answered 408 and the connection is closed, whether or not a
// route read the body: a body trickled to a route that answered early holds no connection forever.
// Webhook bodies have their own, shorter limit (NORN_WEBHOOK_BODY_TIMEOUT_SECONDS) while they are read; this one
// still ends a body the receiver drops unread (a 503 when it holds as many bodies as it may).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeJson } from './write-json.js';

interface Deadline {
  timer: NodeJS.Timeout;
  /** Set by allowSlowUpload: the socket's byte count when the limit was last checked. */
  idleSince?: number;
}

const deadlines = new WeakMap<IncomingMessage, Deadline>();

export function armRequestDeadline(req: IncomingMessage, res: ServerResponse, limitMs: number): void {
  const deadline: Deadline = { timer: setTimeout(() => check(req, res, deadline, limitMs), limitMs) };
  deadlines.set(req, deadline);
  // Most requests end well within the limit: their timer goes with them rather than holding them until it fires.
  const settle = () => {
    if (req.complete) clearTimeout(deadline.timer);
  };
  res.once('close', settle);
  req.once('close', settle);
}

/** The request may take as long as it keeps sending: the limit becomes the longest silence it may keep. */
export function allowSlowUpload(req: IncomingMessage): void {
  const deadline = deadlines.get(req);
  if (deadline) deadline.idleSince = req.socket.bytesRead;
}

function check(req: IncomingMessage, res: ServerResponse, deadline: Deadline, limitMs: number): void {
  if (req.complete || req.socket.destroyed) return;
  if (deadline.idleSince !== undefined && req.socket.bytesRead > deadline.idleSince) {
    deadline.idleSince = req.socket.bytesRead;
    deadline.timer = setTimeout(() => check(req, res, deadline, limitMs), limitMs);
    return;
  }
  const seconds = limitMs / 1000;
  const error =
    deadline.idleSince !== undefined
      ? `the upload stalled: nothing arrived for ${seconds} s (NORN_REQUEST_TIMEOUT_SECONDS); nothing was kept, send it again`
      : `the request did not arrive whole within ${seconds} s (NORN_REQUEST_TIMEOUT_SECONDS); send it whole and promptly`;
  if (res.headersSent) return cutOff(req);
  writeJson(res, 408, { error }, { connection: 'close' }, () => cutOff(req));
}

/**
 * Ends the request as well as its connection: once its answer is sent, the server no longer counts it among the
 * connection's requests, so closing the socket alone would leave a route reading the body waiting for ever.
 */
function cutOff(req: IncomingMessage): void {
  req.destroy();
  req.socket.destroy();
}
