/**
 * Another program holding the station database's write lock, as a supervisor's tool does: a
 * real `sqlite3` shell in its own process, inside BEGIN IMMEDIATE until released (tests only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A held lock; `release` commits and waits for the shell to end. */
export interface HeldLock {
  release(): Promise<void>;
}

const holders = new Set<ChildProcess>();

/**
 * Starts `sqlite3 <path>`, takes the write lock (waiting up to 10 s for a write in progress)
 * and resolves once it holds it. The shell says so on its own output, a named event, not a wait.
 */
export async function holdWriteLock(path: string): Promise<HeldLock> {
  const shell = spawn('sqlite3', [path], { stdio: ['pipe', 'pipe', 'inherit'] });
  holders.add(shell);
  const exited = once(shell, 'exit');
  const lines = createInterface({ input: shell.stdout });
  const locked = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'locked' && resolve());
    void exited.then(() => reject(new Error('sqlite3 ended before it held the lock')));
  });
  shell.stdin.write(
    ".timeout 10000\nBEGIN IMMEDIATE;\nUPDATE sync_lease SET rowid = rowid;\nSELECT 'locked';\n",
  );
  await locked;
  return {
    async release() {
      if (shell.exitCode === null) shell.stdin.end('COMMIT;\n.quit\n');
      await exited;
      holders.delete(shell);
    },
  };
}

/** Ends every shell a test left holding its lock (an afterEach); each rolls back as it dies. */
export async function endLockHolders(): Promise<void> {
  await Promise.all(
    [...holders].map(async (shell) => {
      holders.delete(shell);
      if (shell.exitCode !== null || shell.signalCode !== null) return;
      const exited = once(shell, 'exit');
      shell.kill();
      await exited;
    }),
  );
}
