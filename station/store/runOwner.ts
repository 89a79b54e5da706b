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
