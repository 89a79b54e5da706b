/**
 * Keeps the window's page joined to the station core: hands the page a fresh MessagePort once
 * both are up, and reloads the page whenever what it shows can no longer be live (the core it
 * talked to crashed, or the page's own renderer died). A reloaded page starts from "Connecting",
 * never from the last state of a station that is gone.
 */
import type { MessagePortMain } from 'electron';
import type { TypedEvent } from '../firmware-bridge/typedEvent.js';
import type { CoreExit } from './coreHost.js';

/** What the link needs of the core host (CoreHost). */
export interface LinkedCore {
  readonly onReady: TypedEvent<void>;
  readonly onExit: TypedEvent<CoreExit>;
  connectUi(): MessagePortMain | undefined;
}

/** What the link needs of the window's web contents. */
export interface LinkedPage {
  /** Sends the port to the preload (main.ts: `webContents.postMessage` on the port channel). */
  postPort(port: MessagePortMain): void;
  reload(): void;
}

export class WindowCoreLink {
  readonly #core: LinkedCore;
  readonly #log: (line: string) => void;
  #page: LinkedPage | undefined;
  /** The preload listens only once the page has loaded; a port sent earlier could be lost. */
  #pageLoaded = false;
  /** Whether the page now loaded holds a port to the running core. */
  #pageHasPort = false;
  /** The renderer died and its reload has not finished loading yet (guards a crash loop). */
  #recoveringRenderer = false;

  constructor(core: LinkedCore, log: (line: string) => void = console.error) {
    this.#core = core;
    this.#log = log;
    core.onReady.on(() => this.#givePort());
    core.onExit.on(({ crashed }) => {
      // The page still shows the dead core's slots as live, with PASS and buttons that go
      // nowhere, and would until the core is back (or for good if it cannot start again).
      if (crashed && this.#pageHasPort) this.#reload();
    });
  }

  /** The window's page, once the window exists; undefined after it closed. */
  attach(page: LinkedPage | undefined): void {
    this.#page = page;
    this.#pageLoaded = false;
    this.#pageHasPort = false;
  }

  /** `did-start-loading`: whatever port the page held goes with it. */
  pageStartedLoading(): void {
    this.#pageLoaded = false;
    this.#pageHasPort = false;
  }

  /** `did-finish-load`. */
  pageLoaded(): void {
    this.#pageLoaded = true;
    this.#recoveringRenderer = false;
    this.#givePort();
  }

  /**
   * `render-process-gone`: without a reload the window stays blank until the app is restarted.
   * A page that dies again before it finished loading is left alone rather than reloaded in a
   * loop.
   */
  rendererGone(reason: string): void {
    this.#pageLoaded = false;
    this.#pageHasPort = false;
    if (reason === 'clean-exit') return;
    if (this.#recoveringRenderer) {
      this.#log(`station window: the page died again while reloading (${reason}); not retried`);
      return;
    }
    this.#log(`station window: the page died (${reason}); reloading it`);
    this.#recoveringRenderer = true;
    this.#page?.reload();
  }

  #reload(): void {
    this.#pageLoaded = false;
    this.#pageHasPort = false;
    this.#page?.reload();
  }

  #givePort(): void {
    const page = this.#page;
    if (!page || !this.#pageLoaded || this.#pageHasPort) return;
    const port = this.#core.connectUi();
    if (!port) return;
    page.postPort(port);
    this.#pageHasPort = true;
  }
}
