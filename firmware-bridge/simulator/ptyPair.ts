import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Two connected pseudo-terminals made by socat: the device holds one end, the host the other. */
export interface PtyPair {
  /** The end the simulated device opens. */
  readonly devicePath: string;
  /** The end the station opens, as it would a USB serial adapter. */
  readonly hostPath: string;
  /** Resolves when socat has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** socat's process id (tests pause it to hold bytes between the two ends). */
  readonly socatPid: number;
  /** Kills socat: both ttys hang up at once, as when a cable is pulled. Idempotent. */
  close(): Promise<void>;
}

/** The stable code of the refusal below; `station start` prints it after the sentence. */
export const SIM_SOCAT_MISSING = 'SIM_SOCAT_MISSING';

/**
 * What a simulator start (the DEMO line of `npm start`, `station demo`, `station simulate`)
 * says when socat is missing: `npm start` only warns when it cannot install socat, since a saved
 * real line needs none, so the DEMO must name the fix itself.
 */
export const SOCAT_MISSING =
  'socat is not installed, so the simulated devices of the DEMO line cannot get their ttys: ' +
  'install it (`sudo apt-get install socat`, or `bash scripts/install-test-deps.sh --runtime-only`) ' +
  'and start again';

/** Refuses a pty pair when socat is not on PATH: operator text, with a stable code. */
export class SocatMissingError extends Error {
  readonly code = SIM_SOCAT_MISSING;
  constructor() {
    super(SOCAT_MISSING);
    this.name = 'SocatMissingError';
  }
}
const START_TIMEOUT_MS = 5000;

/**
 * socat runs under a small shell watchdog, in its own process group:
 * - its own group, so a Ctrl-C in the terminal reaches only us, and we unplug in order;
 * - the watchdog holds a pipe from us (fd 3: a background job's stdin would be /dev/null) and
 *   kills socat when the pipe reaches EOF. We end the pipe to close the pair; the kernel ends
 *   it however this process exits, even on SIGKILL, so no socat outlives us;
 * - the shell exits when socat does (and reaps both children), so `exited` tracks socat.
 * `read` is a shell builtin: the watchdog costs no process of its own beyond the subshell.
 */
const WATCHDOG = [
  'exec 3<&0',
  'socat -d -d pty,raw,echo=0 pty,raw,echo=0 & s=$!',
  '(while read -r _ <&3; do :; done; kill $s 2>/dev/null) & w=$!',
  'wait $s',
  'kill $w 2>/dev/null',
  'wait $w',
].join('\n');
const CLOSE_GRACE_MS = 2000;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

let socatChecked = false;

/** True when socat is on PATH; pty tests skip with a reason otherwise. */
export function socatOnPath(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).error === undefined;
}

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and resolves once both ttys exist. */
export function openPtyPair(): Promise<PtyPair> {
  if (!socatChecked) {
    if (!socatOnPath()) return Promise.reject(new SocatMissingError());
    socatChecked = true;
  }
  const child = spawn('/bin/sh', ['-c', WATCHDOG], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const close = async (): Promise<void> => {
    child.stdin!.end();
    // Should the watchdog not react, take the whole group down.
    const force = setTimeout(() => killGroup(child, 'SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(force);
  };

  return new Promise<PtyPair>((resolve, reject) => {
    let stderr = '';
    let done = false;
    const fail = (message: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killGroup(child, 'SIGKILL');
      reject(new Error(message));
    };
    const timer = setTimeout(
      () => fail(`socat printed no pty paths within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`),
      START_TIMEOUT_MS,
    );
    child.once('error', (err) => fail(`cannot start socat: ${err.message}`));
    child.once('exit', (code, signal) =>
      fail(`socat exited (${signal ?? code}): ${stderr.trim()}`),
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (done) return;
      stderr += text;
      // "2026/01/01 00:00:00 socat[123] N PTY is /dev/pts/7", once per side, in address order.
      const paths = [...stderr.matchAll(/socat\[(\d+)\] \S+ PTY is (\S+)/g)];
      if (paths.length < 2) return;
      done = true;
      clearTimeout(timer);
      resolve({
        devicePath: paths[0]![2]!,
        hostPath: paths[1]![2]!,
        socatPid: Number(paths[0]![1]),
        exited,
        close,
      });
    });
  });
}
