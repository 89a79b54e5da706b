import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The process that opened a run (migration 008), as the next start judges whether it is gone. */
export interface RunOwner {
  host: string;
  pid: number;
  /**
   * One per process, never per store: two stores of one process must see each other's runs as
   * their own. It tells this process from an earlier one that had the same pid.
   */
  token: string;
  /**
   * The kernel's boot id (Linux), when it can be read: a run of this host from an earlier boot
   * is gone whatever process now has its pid.
   */
  boot?: string;
}

const THIS_PROCESS: RunOwner = Object.freeze({
  host: hostname(),
  pid: process.pid,
  token: randomUUID(),
  ...bootId(),
});

function bootId(): { boot?: string } {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return boot === '' ? {} : { boot };
  } catch {
    return {}; // not Linux, or no /proc: the pid alone has to tell
  }
}

/** The owner of the runs this process opens. */
export function thisProcess(): RunOwner {
  return THIS_PROCESS;
}

/**
 * Whether a process of this host runs (signal 0 checks without signalling). A pid taken over by
 * an unrelated process reads as running: the caller errs on the side of leaving things open.
 */
export function hostProcessRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process of this host started, in clock ticks since boot (field 22 of
 * /proc/PID/stat, Linux), or undefined where that cannot be read (no such process, no /proc).
 * A pid taken over by another process after the first ended (a SIGKILL, a crash) has another
 * start: a record that kept the start tells the two apart, which the pid alone cannot.
 */
export function processStartTicks(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself:
  // the fields after it follow its last closing one, state (field 3) first.
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = after[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : undefined;
}

/** This process's start, read once: every run it opens records it. */
const THIS_PROCESS_START = processStartTicks(process.pid);

/**
 * When the process of `owner` started (processStartTicks), as a run it opens records it
 * (migration 023), or undefined where that cannot be read. The owner opening a run is running:
 * its pid names it now, as it may not after it ends.
 */
export function ownerStartTicks(owner: RunOwner): string | undefined {
  return owner.pid === process.pid ? THIS_PROCESS_START : processStartTicks(owner.pid);
}
