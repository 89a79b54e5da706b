/**
 * The window's hardening, in one place: the UI is served from a private `station:` scheme under
 * the same CSP and headers as the headless server, nothing else may load, and pages can neither
 * navigate, open windows, attach webviews nor ask for permissions.
 */
import { readFile } from 'node:fs/promises';
import {
  protocol,
  type BrowserWindowConstructorOptions,
  type Session,
  type WebContents,
} from 'electron';
import {
  contentSecurityPolicy,
  resolveStaticFile,
  securityHeaders,
} from '../station/api/staticFiles.js';

export const STATION_SCHEME = 'station';
/** The page the window loads. */
export const STATION_PAGE = `${STATION_SCHEME}://app/index.html`;

/** Must run before app `ready`: a standard, secure scheme gets an origin and 'self' works. */
export function registerStationScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: STATION_SCHEME, privileges: { standard: true, secure: true } },
  ]);
}

/** Serves renderer/dist on `station://app/`, with the headless server's path rules. */
export function serveStationScheme(rendererDir: string): void {
  const headers = securityHeaders();
  protocol.handle(STATION_SCHEME, async (request) => {
    const url = new URL(request.url);
    const found =
      url.host === 'app'
        ? await resolveStaticFile(rendererDir, url.pathname)
        : ({ kind: 'refused', status: 404 } as const);
    if (found.kind === 'refused') return new Response(null, { status: found.status, headers });
    return new Response(await readFile(found.path), {
      headers: { ...headers, 'Content-Type': found.contentType },
    });
  });
}

/** No remote content, no permissions, and the CSP on every response that reaches a page. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    const scheme = new URL(details.url).protocol;
    callback({ cancel: !['station:', 'devtools:', 'data:'].includes(scheme) });
  });
  const csp = contentSecurityPolicy();
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] },
    });
  });
}

/** Every web contents (window, devtools) may not leave the UI or spawn anything. */
export function lockDownContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** The window's options: isolated, sandboxed, no Node, web security on. */
export function secureWindowOptions(
  preload: string,
  devTools: boolean,
): BrowserWindowConstructorOptions {
  return {
    width: 1600,
    height: 1000,
    minWidth: 800,
    minHeight: 600,
    backgroundColor: '#0b0e13',
    title: 'Line Station',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools,
    },
  };
}
