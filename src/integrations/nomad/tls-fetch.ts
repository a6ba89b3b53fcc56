// A `fetch` over node:https with a private CA, a client certificate and an `insecure` switch. Node's global fetch
// cannot take TLS options without the undici package, and the Nomad client needs only string bodies, so this
// small transport covers what `NOMAD_CACERT` / `NOMAD_CLIENT_CERT` / `NOMAD_CLIENT_KEY` / `NOMAD_SKIP_VERIFY` ask.
import https from 'node:https';
import { Readable } from 'node:stream';

/** PEM texts (the config layer reads the files), plus `insecure` to skip server verification. */
export interface NomadTlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

export function createTlsFetch(tls: NomadTlsConfig): typeof fetch {
  const agent = new https.Agent({
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: !tls.insecure,
    keepAlive: true,
  });
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) return reject(signal.reason);
      const headers = new Headers(init?.headers);
      const req = https.request(
        url,
        { method: init?.method ?? 'GET', agent, headers: Object.fromEntries(headers), signal },
        (res) => {
          // The body streams as it arrives, so a followed log (`follow=true`) is read while Nomad writes it.
          const resHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) resHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status: res.statusCode ?? 500, headers: resHeaders }));
        },
      );
      req.on('error', (err) => reject(signal?.aborted ? signal.reason : err));
      if (typeof init?.body === 'string') req.write(init.body);
      req.end();
    });
}
