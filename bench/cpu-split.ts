// Diagnostic (Linux): CPU time of this bench's processes by role, read from /proc, so a path's cost per
// event can be split between the publisher, its PostgreSQL backends, Redis and the consumer processes.
import { readFileSync, readdirSync } from 'node:fs';

export type CpuSplit = Record<string, number>;

function cpuMs(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

/** ms of CPU so far: this process, `children` by pid, PostgreSQL backends of `dbName`, redis-server. */
export function cpuSnapshot(dbName: string, children: Record<string, number | undefined>): CpuSplit {
  const out: CpuSplit = { bench: cpuMs(String(process.pid)), pg: 0, redis: 0 };
  const byPid = new Map(Object.entries(children).map(([k, v]) => [String(v), k]));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const role = byPid.get(pid);
      if (role) out[role] = (out[role] ?? 0) + cpuMs(pid);
      else if (cmd.startsWith('postgres:') && cmd.includes(` ${dbName} `)) out.pg! += cpuMs(pid);
      else if (cmd.startsWith('redis-server')) out.redis! += cpuMs(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** Commands clients sent to Redis (INFO commandstats; commands run inside scripts not counted twice). */
export async function redisCalls(info: () => Promise<string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await info()).matchAll(
    /cmdstat_(evalsha|bzpopmin|zadd|xadd|exec|multi|get|set|hget|info|publish|client|ping):calls=(\d+)/g,
  ))
    out[m[1]!] = Number(m[2]);
  return out;
}

export function callsPerEvent(a: Record<string, number>, b: Record<string, number>, events: number): string {
  return Object.keys(b)
    .filter((k) => (b[k] ?? 0) !== (a[k] ?? 0))
    .map((k) => `${k} ${(((b[k] ?? 0) - (a[k] ?? 0)) / events).toFixed(2)}`)
    .join(', ');
}

export function perEvent(before: CpuSplit, after: CpuSplit, events: number): string {
  return Object.keys(after)
    .map((k) => `${k} ${((((after[k] ?? 0) - (before[k] ?? 0)) * 1000) / events).toFixed(0)}`)
    .join(', ');
}
