import { existsSync } from 'node:fs';

/** How long a configured path may be missing after the start before the status names it. */
export const MISSING_PORT_NOTE_MS = 10_000;

/** Where an operator finds the right path. */
const PORTS_HINT = 'station ports lists the ports this machine has';

/** Whether `port` is a path in this machine's file system (/dev/ttyUSB0, a by-id link). */
function isLocalPath(port: string): boolean {
  return port.startsWith('/');
}

/**
 * The local paths among `ports` that do not exist now (a link counts by its target). A serial
 * device server (`tcp://`) and a Windows port (`COM7`) are never among them: no file says
 * whether they are there.
 */
export function absentLocalPorts(ports: readonly string[]): string[] {
  return ports.filter((port) => isLocalPath(port) && !existsSync(port));
}

/**
 * The detail of LINE_PORT_ABSENT for `port` on slot `slot`: a path that does not exist at all
 * (mistyped, stale, an adapter not plugged in) is told apart from a port that is there.
 */
export function portAbsentDetail(slot: number, port: string): string {
  if (absentLocalPorts([port]).length === 0) return `slot ${slot} ${port}`;
  return `slot ${slot} ${port}: there is no ${port} on this machine; check the path (${PORTS_HINT}), the cable or the adapter`;
}

/**
 * The configured local paths that have not existed since the line started. A slot waiting on a
 * mistyped or stale path looks just like a socket with nothing plugged in, so once the line has
 * run for a while (MISSING_PORT_NOTE_MS) the status names the paths it has never seen, and the
 * log says so once. A path that appears leaves the note for good (hot-plug: an adapter plugged
 * in after the start is fine), even if it goes again: a device that brings its own USB serial
 * takes its path with it each time it is unplugged, and that is no wrong path.
 */
export class MissingPortsNote {
  private readonly unseen: Set<string>;
  private due = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    configured: readonly string[],
    private readonly options: {
      afterMs: number;
      /** The note changed: the status should be sent again. */
      changed: () => void;
      log?: (line: string) => void;
    },
  ) {
    this.unseen = new Set(configured.filter(isLocalPath));
  }

  /** The line started (its first scan done): the note may show `afterMs` from now. */
  start(): void {
    this.stop();
    if (this.due || this.unseen.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      const note = this.note();
      if (note === undefined) return;
      this.options.log?.(note);
      this.options.changed();
    }, this.options.afterMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The watcher found `path`. */
  appeared(path: string): void {
    if (!this.unseen.delete(path) || !this.due) return;
    this.options.log?.(`Port ${path} is there now.`);
    this.options.changed();
  }

  note(): string | undefined {
    if (!this.due || this.unseen.size === 0) return undefined;
    const paths = [...this.unseen].join(', ');
    const what = this.unseen.size === 1 ? 'No such port' : 'No such ports';
    return `${what}: ${paths} — check the cable or adapter, or the path given for the line (${PORTS_HINT}).`;
  }
}
