/**
 * WindowCoreLink with a fake core and page: when the page gets its port, and when it is reloaded
 * so that it never shows a station that is gone as if it were live.
 */
import type { MessagePortMain } from 'electron';
import { describe, expect, it } from 'vitest';
import { TypedEvent } from '../firmware-bridge/typedEvent.js';
import type { CoreExit } from './coreHost.js';
import { WindowCoreLink, type LinkedCore, type LinkedPage } from './windowCoreLink.js';

class FakeCore implements LinkedCore {
  readonly onReady = new TypedEvent<void>();
  readonly onExit = new TypedEvent<CoreExit>();
  up = false;
  ports = 0;
  connectUi(): MessagePortMain | undefined {
    if (!this.up) return undefined;
    this.ports++;
    return {} as MessagePortMain;
  }
  ready(): void {
    this.up = true;
    this.onReady.emit();
  }
  crash(): void {
    this.up = false;
    this.onExit.emit({ code: 1, crashed: true, restartInMs: 1_000, crashesInARow: 1 });
  }
}

class FakePage implements LinkedPage {
  posted = 0;
  reloads = 0;
  postPort(): void {
    this.posted++;
  }
  reload(): void {
    this.reloads++;
  }
}

function linked() {
  const core = new FakeCore();
  const page = new FakePage();
  const link = new WindowCoreLink(core, () => {});
  link.attach(page);
  return { core, page, link };
}

/** The page loads as a window does: started, then finished. */
function load(link: WindowCoreLink): void {
  link.pageStartedLoading();
  link.pageLoaded();
}

describe('WindowCoreLink', () => {
  it('gives the page a port once both the page and the core are up, in either order', () => {
    const first = linked();
    load(first.link);
    expect(first.page.posted).toBe(0);
    first.core.ready();
    expect(first.page.posted).toBe(1);

    const second = linked();
    second.core.ready();
    load(second.link);
    expect(second.page.posted).toBe(1);
  });

  it('reloads the page as soon as its core crashes, not when the next core is up', () => {
    const { core, page, link } = linked();
    core.ready();
    load(link);
    core.crash();
    // Until the restart (1 s to 30 s, or never when it cannot start), a page holding the dead
    // core's port would show its last slots as live.
    expect(page.reloads).toBe(1);

    load(link);
    expect(page.posted).toBe(1);
    core.ready();
    expect(page.reloads).toBe(1);
    expect(page.posted).toBe(2);
  });

  it('does not reload a page that never had a port when the core crashes', () => {
    const { core, page } = linked();
    core.crash();
    expect(page.reloads).toBe(0);
  });

  it('reloads a page whose renderer died, once, and gives the reloaded page a port', () => {
    const { core, page, link } = linked();
    core.ready();
    load(link);
    link.rendererGone('oom');
    expect(page.reloads).toBe(1);
    load(link);
    expect(page.posted).toBe(2);

    // A page that dies again while still reloading is not reloaded in a loop.
    link.rendererGone('crashed');
    expect(page.reloads).toBe(2);
    link.pageStartedLoading();
    link.rendererGone('crashed');
    expect(page.reloads).toBe(2);
  });

  it('does not reload a page that exited cleanly (the window closing)', () => {
    const { core, page, link } = linked();
    core.ready();
    load(link);
    link.rendererGone('clean-exit');
    expect(page.reloads).toBe(0);
  });
});
