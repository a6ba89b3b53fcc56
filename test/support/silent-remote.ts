// A "remote" that never answers: a TCP listener on loopback that accepts every connection and stays silent, like a
// firewalled or hung git server. Also finds the processes still talking to it, to prove none outlived a deadline.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SilentRemote {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

export async function startSilentRemote(): Promise<SilentRemote> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `pid args` of every live process whose command line mentions `needle` (ps, not our own bookkeeping). */
export function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(needle) && !/^\s*\d+\s+Z/.test(line))
    .filter((line) => !line.includes(' ps -eo '))
    .map((line) => line.trim());
}
