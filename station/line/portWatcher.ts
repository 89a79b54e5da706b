import { statSync } from 'node:fs';
import { parseTcpPath } from '../../firmware-bridge/transports/tcpTransport.js';
import {
  discoverPorts,
  type DiscoveryResult,
} from '../../firmware-bridge/transports/portDiscovery.js';
import { TypedEvent } from '../../firmware-bridge/typedEvent.js';

/** Names the kernel gives serial nodes itself; any other configured path is a link udev makes. */
const KERNEL_NODE = /^\/dev\/(tty|pts\/|cu\.)/;
/** A port came or went. */
export interface PortChange {
  path: string;
  present: boolean;
}

export interface PortWatcherOptions {
  /** Paths from configuration, watched whether or not discovery is on. */
  configured: readonly string[];
  /** Also watch every serial port the OS (or the /dev scan) lists. */
  discover: boolean;
  /** Poll interval; hot-plug shows within one interval. Default 1000 ms. */
  pollMs?: number;
  /** Seams for tests. */
  discoverPorts?: (options: { configured: readonly string[] }) => Promise<DiscoveryResult>;
  /** The file-system node at a local path (followed through links); undefined when absent. */
  nodeOf?: (path: string) => string | undefined;
}

/**
 * How long a path that hung up may still show its old node before it counts as present again:
 * udev removes the node (and its by-id links) of an unplugged device within milliseconds, so a
 * node older than this is not a leftover, just a port whose device hung up and stayed (a pty
 * reopened, an adapter that dropped DCD).
 */
const LEFTOVER_NODE_MS = 3000;

/**
 * Watches the ports a line may use and reports each appearance and disappearance once. Polling,
 * not OS notifications: `SerialPort.list()` is the only portable source, it fails without udev
 * (then discovery scans /dev), and a configured path (a pty, a by-id link) may appear at any time.
 *
 * - A configured local path is present while it exists in the file system. On Windows (COM7) it
 *   is present while the OS lists it, or always when discovery is off.
 * - A configured `tcp://` serial device server is always present: whether a device sits behind
 *   it shows only when a run connects.
 * - A port the line holds open (`hold`) needs no polling: unplugging it hangs up the open tty
 *   and the line reports it gone (`lost`); a session the station closes lets go of it
 *   (`release`). With discovery off and every configured port held or always present, the
 *   watcher sets no timer at all, so a busy line is not woken once a second for nothing; polling
 *   resumes with the first release. An explicit `scan()` still checks every path.
 */
export class PortWatcher {
  readonly onChange = new TypedEvent<PortChange>();
  /** The discovery warning (operator text) when it changes; undefined once it clears. */
  readonly onWarning = new TypedEvent<string | undefined>();
  private readonly present = new Set<string>();
  private readonly held = new Set<string>();
  private readonly pollMs: number;
  private readonly discover: NonNullable<PortWatcherOptions['discoverPorts']>;
  private readonly nodeOf: NonNullable<PortWatcherOptions['nodeOf']>;
  /** Paths that hung up while their node was still there: that node, and how long to doubt it. */
  private readonly leftovers = new Map<string, { node: string; until: number }>();
  /**
   * The node each configured local path last led to: a stable link (/dev/serial/by-id/…) goes
   * with its device, before the tty node it pointed at, which its hang-up must still know.
   */
  private readonly lastNodes = new Map<string, string>();
  /**
   * The nodes hung-up ports left, until LEFTOVER_NODE_MS: listed under another name (the tty a
   * gone stable link pointed at, which udev removes a moment later), such a node is no new port.
   */
  private readonly goneNodes = new Map<string, number>();
  /** New listed paths the last poll held back while a configured link was missing (see poll). */
  private settling = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private warning: string | undefined;
  private stopped = false;

  constructor(private readonly options: PortWatcherOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.discover = options.discoverPorts ?? ((o) => discoverPorts(o));
    this.nodeOf = options.nodeOf ?? nodeAt;
  }

  /** Scans once (so the first result is known when this resolves), then polls. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.scan();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  isPresent(path: string): boolean {
    return this.present.has(path);
  }

  /** The line has `path` open: its hang-up will tell when it goes (see the class comment). */
  hold(path: string): void {
    this.held.add(path);
  }

  /** The line closed `path`: poll it again. */
  release(path: string): void {
    if (this.held.delete(path)) this.schedule();
  }

  /**
   * The line's open `path` hung up by itself: its device was unplugged. Reported gone now, not
   * left to the next poll: the next device may be on the path before that poll (a quick swap, a
   * re-pointed by-id link), and a poll that finds the path as it was reports nothing, so its slot
   * would never be re-armed. The next poll reports the path again if it is there as a new node;
   * the unplugged device's own node, which udev may not have removed yet, does not count (it
   * would start a run, in auto mode, on a device that is gone). A serial device server stays
   * present: a dropped connection says nothing of the device behind it.
   */
  lost(path: string): void {
    this.release(path);
    if (this.stopped || parseTcpPath(path) || !this.present.delete(path)) return;
    const node = path.startsWith('/') ? (this.nodeOf(path) ?? this.lastNodes.get(path)) : undefined;
    if (node !== undefined) {
      this.leftovers.set(path, { node, until: Date.now() + LEFTOVER_NODE_MS });
      this.goneNodes.set(node, Date.now() + LEFTOVER_NODE_MS);
    }
    this.onChange.emit({ path, present: false });
  }

  /** One poll now. Concurrent callers share the poll in flight. */
  scan(): Promise<void> {
    this.scanning ??= this.poll().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private schedule(): void {
    if (this.stopped || this.timer || !this.needsPolling()) return;
    // A timer per poll, not an interval: a slow poll (a stuck OS list) never piles up behind itself.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scan()
        .catch((err: unknown) =>
          this.setWarning(`Watching the ports failed (${String(err)}); retrying.`),
        )
        .finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  /** Whether any port could come or go without the line hearing of it. */
  private needsPolling(): boolean {
    return (
      this.options.discover ||
      this.options.configured.some((path) => path.startsWith('/') && !this.held.has(path))
    );
  }

  private async poll(): Promise<void> {
    const found = new Set<string>();
    let listed = new Set<string>();
    if (this.options.discover) {
      // A failed list says nothing of the ports on it: reporting them gone would re-arm (and in
      // auto mode re-provision) every device on them once the list works again.
      listed = (await this.listPorts()) ?? this.listedBefore();
    }
    const configuredNodes = new Set<string>();
    for (const path of this.options.configured) {
      if (this.configuredPresent(path, listed, configuredNodes)) found.add(path);
    }
    // Each listed local path is looked at again, after the list's wait: a board unplugged
    // while the OS list was read (udevadm takes tens of milliseconds) is still on that list,
    // and reporting it present would start a run, in auto mode, on a port that is gone. A node
    // a hung-up port left behind (udev not done yet) counts as that port's, not as a new port.
    for (const [node, until] of this.goneNodes) {
      if (Date.now() >= until) this.goneNodes.delete(node);
    }
    // A device plugged in shows its tty node (and the OS lists it) a moment before udev makes its
    // stable link: while a configured link is missing, a new listed tty may be that link's
    // device, and a slot of its own would start a second run on it. It is reported from the next
    // poll on, once udev had its time, if no configured link leads to it by then.
    const linkMayFollow = this.options.configured.some(
      (p) => p.startsWith('/') && !KERNEL_NODE.test(p) && !found.has(p),
    );
    const settling = new Set<string>();
    for (const path of listed) {
      if (path.startsWith('/') && !this.options.configured.includes(path)) {
        const node = this.nodeOf(path);
        if (node === undefined) continue;
        // Its own path's leftover is dropLeftovers' to judge.
        if (this.goneNodes.has(node) && !this.leftovers.has(path)) continue;
        // A configured port under another name: a line configured by stable links
        // (/dev/serial/by-id/…) finds the same devices in the OS list as /dev/ttyUSB0 and so
        // on, and one device must have one slot, not two that both run on it.
        if (configuredNodes.has(node)) continue;
        if (linkMayFollow && !this.present.has(path) && !this.settling.has(path)) {
          settling.add(path);
          continue;
        }
      }
      found.add(path);
    }
    this.settling = settling;
    if (this.stopped) return;
    this.dropLeftovers(found);
    for (const path of [...this.present]) {
      if (!found.has(path)) {
        this.present.delete(path);
        this.onChange.emit({ path, present: false });
      }
    }
    // Configured ports first, in configuration order, so their slot numbers follow the config.
    const ordered = [...this.options.configured, ...listed].filter((p) => found.has(p));
    for (const path of ordered) {
      if (!this.present.has(path)) {
        this.present.add(path);
        this.onChange.emit({ path, present: true });
      }
    }
  }

  /** Takes out of `found` each hung-up path that still shows the node it hung up on. */
  private dropLeftovers(found: Set<string>): void {
    for (const [path, leftover] of this.leftovers) {
      const stillThere =
        found.has(path) && this.nodeOf(path) === leftover.node && Date.now() < leftover.until;
      if (stillThere) found.delete(path);
      else this.leftovers.delete(path);
    }
  }

  /** The paths the OS lists (or the /dev scan finds); undefined when no list could be had. */
  private async listPorts(): Promise<Set<string> | undefined> {
    let result: DiscoveryResult;
    try {
      result = await this.discover({ configured: [] });
    } catch (err) {
      this.setWarning(
        `Port discovery failed (${(err as Error).message}); only configured ports are watched.`,
      );
      return undefined;
    }
    this.setWarning(result.warning);
    // The OS list failed where there is no /dev to scan (Windows, macOS): its ports are unknown.
    if (result.method === 'configured-only') return undefined;
    return new Set(result.ports.map((port) => port.path));
  }

  /** The present ports whose presence only the list tells: all but configured local paths. */
  private listedBefore(): Set<string> {
    const statted = (path: string) =>
      path.startsWith('/') && this.options.configured.includes(path);
    return new Set([...this.present].filter((path) => !statted(path)));
  }

  /** Whether a configured path is there; the node of a local one goes into `nodes`. */
  private configuredPresent(
    path: string,
    listed: ReadonlySet<string>,
    nodes: Set<string>,
  ): boolean {
    if (parseTcpPath(path)) return true;
    if (!path.startsWith('/')) return this.options.discover ? listed.has(path) : true;
    const node = this.nodeOf(path);
    if (node !== undefined) {
      nodes.add(node);
      this.lastNodes.set(path, node);
    }
    return node !== undefined;
  }

  private setWarning(warning: string | undefined): void {
    if (warning === this.warning) return;
    this.warning = warning;
    this.onWarning.emit(warning);
  }
}

/**
 * The node's identity: device, inode and change time (set when the node is made, and again by a
 * chmod or chown, so a node made again under the same name and inode number, as a pty number
 * reused is, still differs). Synchronous on purpose: a
 * configured path is a device node or a link to one, whose stat is a system call of
 * microseconds. fs/promises would send each through the thread pool, waking a pool thread and
 * then the event loop once more, every poll, all day.
 */
function nodeAt(path: string): string | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat && `${stat.dev}:${stat.ino}:${stat.ctimeMs}`;
  } catch {
    return undefined;
  }
}
