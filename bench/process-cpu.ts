// CPU time from /proc (Linux), for the benches that report what each answered request cost the server. A process's
// figure includes all its threads (GC helpers, workers) and the children it has reaped (adnanh/webhook's commands).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU microseconds `pid` and its reaped children have used so far; 0 once it is gone. */
export function processCpuMicros(pid: number): number {
  try {
    return cpuOfStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** CPU microseconds used so far by every PostgreSQL server process on this machine (its backends do the inserts). */
export function postgresCpuMicros(): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) total += cpuOfStat(stat);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** utime + stime + cutime + cstime of a /proc/<pid>/stat line (fields 14-17; the name may hold spaces). */
function cpuOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return (ticks * 1_000_000) / ticksPerSecond;
}
