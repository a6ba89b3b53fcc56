// A JSON answer written straight to node:http, as Koa writes one (the type with its charset, the exact length), for
// the answers given outside Koa: webhook deliveries and the request deadline's 408.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function writeJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: OutgoingHttpHeaders = {}, then?: () => void): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text, then);
}
