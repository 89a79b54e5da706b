/**
 * Electron main: one window, one station core, nothing else. Main is a thin broker (window,
 * menu, single-instance lock, core supervision, OS secret storage); the station runs in the core
 * process and the UI reaches it only through the MessagePort main hands each page.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, Menu, safeStorage, session } from 'electron';
import { buildAppMenu } from './appMenu.js';
import { coreCrashNotice } from './coreCrashNotice.js';
import { CoreHost } from './coreHost.js';
import { WindowCoreLink } from './windowCoreLink.js';
import {
  hardenSession,
  lockDownContents,
  registerStationScheme,
  secureWindowOptions,
  serveStationScheme,
  STATION_PAGE,
} from './windowSecurity.js';

/** The folder of the built main (dist/electron), where preload and core entry sit beside it. */
const here = dirname(fileURLToPath(import.meta.url));
/** The IPC channel the preload listens on for its port (see preload.ts). */
const PORT_CHANNEL = 'station-port';

registerStationScheme();

if (!app.requestSingleInstanceLock()) {
  // One station per workstation: a second start only brings the first window forward.
  app.quit();
} else {
  runApp();
}

function runApp(): void {
  let window: BrowserWindow | undefined;
  let quitting = false;
  const core = new CoreHost({ entry: join(here, 'coreEntry.js'), safeStorage });
  // Hands the page its port, and reloads it when the core or the page's renderer dies.
  const link = new WindowCoreLink(core);

  core.onExit.on((exit) => {
    if (exit.crashed) {
      console.error(`station core exited (${exit.code}); restarting in ${exit.restartInMs} ms`);
    }
    const notice = coreCrashNotice(exit);
    // Not attached to the window (that would make it modal): the window keeps reconnecting
    // behind it, and the line resumes once the core stays up.
    if (notice) void dialog.showMessageBox({ type: 'warning', ...notice });
  });
  core.onFatal.on((error) => {
    // The detail names the cause (a corrupt config file, a mismatched native module); the core
    // logged it too, but an operator facing this box may have no log to read.
    const detail = error.detail ? `\n\n${error.detail}` : '';
    dialog.showErrorBox(
      'Line Station cannot start',
      `${error.message}${detail}\n\n(${error.code})`,
    );
  });

  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents));
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (quitting) return;
    // Let the core close ports and flush the store before the process goes.
    event.preventDefault();
    quitting = true;
    void core.stop().finally(() => app.quit());
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession);
    serveStationScheme(join(app.getAppPath(), 'renderer', 'dist'));
    Menu.setApplicationMenu(buildAppMenu(!app.isPackaged));
    core.start();

    window = new BrowserWindow(secureWindowOptions(join(here, 'preload.cjs'), !app.isPackaged));
    const { webContents } = window;
    link.attach({
      postPort: (port) => webContents.postMessage(PORT_CHANNEL, null, [port]),
      reload: () => webContents.reload(),
    });
    webContents.on('did-start-loading', () => link.pageStartedLoading());
    webContents.on('did-finish-load', () => link.pageLoaded());
    webContents.on('render-process-gone', (_event, details) => {
      if (!quitting) link.rendererGone(details.reason);
    });
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => {
      window = undefined;
      link.attach(undefined);
    });
    void window.loadURL(STATION_PAGE);
  });
}
