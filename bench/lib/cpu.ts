import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

// /proc counts CPU time in clock ticks of 1/USER_HZ s; USER_HZ is 100 on every Linux the bench runs on
// (Node has no sysconf to ask).
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far, all its threads together (Linux); null when it is gone. */
function processCpuSeconds(pid: number | string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
  } catch {
    return null;
  }
}

/** Every PostgreSQL server process on this machine: backends, writers, the checkpointer. */
function postgresCpuSeconds(): number {
  let seconds = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue; // ended while we looked
    }
    seconds += processCpuSeconds(pid) ?? 0;
  }
  return seconds;
}

/** CPU seconds each group of processes used over a window. */
export interface CpuUsage {
  readonly seconds: ReadonlyMap<string, number>;
  readonly elapsedSeconds: number;
}

/**
 * The CPU time each group of processes uses from `delayMs` from now for `durationMs` (a closed loop's
 * measured window, after its warm-up): the given processes, the bench itself ("bench client") and, when
 * asked, the PostgreSQL server. Null where the machine cannot tell (no Linux /proc). It only means
 * something when nothing else runs on the machine.
 */
export async function measureCpu(
  groups: ReadonlyMap<string, readonly number[]>,
  withPostgres: boolean,
  delayMs: number,
  durationMs: number,
): Promise<CpuUsage | null> {
  if (processCpuSeconds(process.pid) === null) return null;
  const read = (): Map<string, number> => {
    const seconds = new Map<string, number>();
    for (const [name, pids] of groups) {
      seconds.set(
        name,
        pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0),
      );
    }
    const own = process.cpuUsage();
    seconds.set('bench client', (own.user + own.system) / 1e6);
    if (withPostgres) seconds.set('PostgreSQL', postgresCpuSeconds());
    return seconds;
  };
  await sleep(delayMs);
  const before = read();
  const startedAt = performance.now();
  await sleep(durationMs);
  const after = read();
  return {
    seconds: new Map([...after].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)])),
    elapsedSeconds: (performance.now() - startedAt) / 1000,
  };
}

/** "service 4.10 ms (1.20 cores), bench client 0.60 ms (0.17 cores); 1.37 of 2 cores busy" */
export function describeCpu(usage: CpuUsage, units: number): string {
  const shares = [...usage.seconds].map(
    ([name, seconds]) =>
      `${name} ${((seconds * 1000) / units).toFixed(2)} ms (${(seconds / usage.elapsedSeconds).toFixed(2)} cores)`,
  );
  const busy = [...usage.seconds.values()].reduce((sum, seconds) => sum + seconds, 0) / usage.elapsedSeconds;
  return `${shares.join(', ')}; ${busy.toFixed(2)} of ${availableParallelism()} cores busy`;
}
