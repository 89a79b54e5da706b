/**
 * The processes a child started, read from Linux's /proc, so a test can check that none outlives
 * it. Each is named by pid and start time, so a pid the kernel hands out again is not mistaken
 * for the process that had it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it. */
export interface ProcessId {
  pid: number;
  /** Clock ticks after boot at which it started (field 22 of /proc/PID/stat). */
  startTime: string;
  /** The command name, for failure messages. */
  name: string;
}

interface ProcStat extends ProcessId {
  parent: number;
  /** R, S, D, Z (exited, not yet reaped), … */
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields start after the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      pid,
      name: stat.slice(stat.indexOf('(') + 1, close),
      state: fields[0] ?? '',
      parent: Number(fields[1]),
      startTime: fields[19] ?? '',
    };
  } catch {
    return undefined; // it ended while we looked
  }
}

/** Every live process below `root` (children, their children, …). Linux only. */
export function descendantsOf(root: number): ProcessId[] {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const below = new Set([root]);
  // Parents may be listed after their children: repeat until nothing new joins (bounded).
  for (let round = 0, grew = true; grew && round < 64; round++) {
    grew = false;
    for (const stat of stats) {
      if (below.has(stat.parent) && !below.has(stat.pid)) {
        below.add(stat.pid);
        grew = true;
      }
    }
  }
  return stats
    .filter((stat) => stat.pid !== root && below.has(stat.pid))
    .map(({ pid, startTime, name }) => ({ pid, startTime, name }));
}

/** Whether the process still runs (an exited process awaiting its parent's reaping does not). */
export function stillRunning(process: ProcessId): boolean {
  const stat = readStat(process.pid);
  return stat !== undefined && stat.startTime === process.startTime && stat.state !== 'Z';
}
