/**
 * Electron main: one window, one station core, nothing else. Main is a thin broker (window,
 * menu, single-instance lock, core supervision, OS secret storage); the station runs in the core
 * process and the UI reaches it only through the MessagePort main hands each page.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, Menu, safeStorage, session } from 'electron';
import { buildAppMenu } from './appMenu.js';
import { CoreHost } from './coreHost.js';
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
  /** The preload listens only once the page has loaded; a port sent earlier could be lost. */
  let pageLoaded = false;
  /** Whether the page now loaded holds a port (a core restart then needs a reload). */
  let pageHasPort = false;
  let quitting = false;
  const core = new CoreHost({ entry: join(here, 'coreEntry.js'), safeStorage });

  const givePort = (): void => {
    const port = window && pageLoaded && !pageHasPort ? core.connectUi() : undefined;
    if (!window || !port) return;
    window.webContents.postMessage(PORT_CHANNEL, null, [port]);
    pageHasPort = true;
  };

  core.onReady.on(() => {
    // After a crash the page still holds the dead core's port: a reload gets it a fresh start.
    if (pageHasPort) window?.webContents.reload();
    else givePort();
  });
  core.onExit.on(({ code, crashed, restartInMs }) => {
    if (crashed) console.error(`station core exited (${code}); restarting in ${restartInMs} ms`);
  });
  core.onFatal.on((error) => {
    dialog.showErrorBox('Line Station cannot start', `${error.message}\n\n(${error.code})`);
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
    window.webContents.on('did-start-loading', () => {
      pageLoaded = false;
      pageHasPort = false;
    });
    window.webContents.on('did-finish-load', () => {
      pageLoaded = true;
      givePort();
    });
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => (window = undefined));
    void window.loadURL(STATION_PAGE);
  });
}
