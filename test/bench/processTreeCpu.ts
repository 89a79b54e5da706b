import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks of 10 ms (USER_HZ = 100 on every mainstream build). */
const MS_PER_TICK = 10;

/**
 * CPU time (user + system, ms) used so far by process `root` and every live descendant, from
 * /proc: the simulator child, the node it runs under tsx, and its socat processes. Undefined
 * where there is no /proc. Resolution is 10 ms per process, fine over a bench window of seconds.
 */
export function processTreeCpuMs(root: number): number | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of names) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (
      let p: number | undefined = pid, depth = 0;
      p !== undefined && p > 1 && depth < 64;
      depth++
    ) {
      if (p === root) {
        total += ms;
        break;
      }
      p = parent.get(p);
    }
  }
  return total;
}

/** CPU time (ms) of this process's main thread so far (Linux), else undefined. */
export function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}
