// CPU time per run, by process, from /proc: on a small machine the throughput figures are a CPU budget, and
// this says who spends it. Linux only; elsewhere every figure is 0 and the line is left out.
import fs from 'node:fs';

/** /proc/<pid>/stat times are in clock ticks; USER_HZ is 100 on every Linux kernel we run on. */
const TICK_MS = 10;

/** utime + stime, plus cutime + cstime: Postgres backends that exit hand their time to the postmaster's. */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Every process whose command name is `comm` (new Postgres backends appear between snapshots). */
function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  if (!fs.existsSync('/proc')) return pids;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/comm`, 'utf8').trim() === comm) pids.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

export type CpuSnapshot = Map<string, number>;

/** Takes a snapshot of the named processes plus this one, Postgres and Redis (the whole servers). */
export function cpuProbe(processes: Record<string, number[]>): () => CpuSnapshot {
  return () => {
    const snap: CpuSnapshot = new Map();
    for (const [name, pids] of Object.entries(processes))
      snap.set(
        name,
        pids.reduce((sum, pid) => sum + cpuMs(pid), 0),
      );
    const self = process.cpuUsage();
    snap.set('bench process', (self.user + self.system) / 1000);
    snap.set(
      'Postgres',
      pidsNamed('postgres').reduce((sum, pid) => sum + cpuMs(pid), 0),
    );
    snap.set(
      'Redis',
      pidsNamed('redis-server').reduce((sum, pid) => sum + cpuMs(pid), 0),
    );
    return snap;
  };
}

/** CPU ms per run between two snapshots, by process, and the total; undefined without /proc. */
export function cpuPerRun(before: CpuSnapshot, after: CpuSnapshot, runs: number): string | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const parts: string[] = [];
  let total = 0;
  for (const [name, end] of after) {
    const per = (end - (before.get(name) ?? 0)) / runs;
    total += per;
    if (per >= 0.05) parts.push(`${name} ${per.toFixed(1)}`);
  }
  return `CPU ms per run: ${parts.join(', ')}; total ${total.toFixed(1)}`;
}
