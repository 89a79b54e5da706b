/**
 * Serving the built renderer safely: which file a URL path may name, its content type, and the
 * security headers every response carries. Used by the headless server and by the Electron
 * shell's `station:` protocol, so both deliver the UI under the same policy.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** Content types of what Vite emits; anything else is served as opaque bytes. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The UI's Content-Security-Policy: only its own scripts and styles, nothing inline, no frames.
 * `connect-src 'self'` also covers the headless UI's WebSocket to its own host and port (CSP
 * Level 3): a page, or a script injected into it, may open no socket to any other port.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Headers on every response of the UI. The page URL holds the session token: no referrer. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
}

export type StaticLookup =
  | { kind: 'file'; path: string; contentType: string; size: number }
  | { kind: 'refused'; status: 400 | 404; reason: string };

const refused = (status: 400 | 404, reason: string): StaticLookup => ({
  kind: 'refused',
  status,
  reason,
});

/**
 * The file under `root` that the URL path `pathname` names, or why not. `/` is index.html;
 * other directories, hidden files, `..` and `.` segments, encoded separators and anything whose
 * real path (after symlinks) leaves `root` are refused rather than normalised.
 */
export async function resolveStaticFile(root: string, pathname: string): Promise<StaticLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return refused(400, 'malformed percent-encoding');
  }
  if (!decoded.startsWith('/') || /[\\\0]/.test(decoded)) return refused(400, 'bad path');
  if (decoded === '/') decoded = '/index.html';
  const segments = decoded.slice(1).split('/');
  if (segments.some((s) => s === '..' || s === '.')) return refused(400, 'path traversal');
  if (segments.some((s) => s === '' || s.startsWith('.'))) return refused(404, 'not served');

  const base = resolve(root);
  const candidate = join(base, ...segments);
  if (!candidate.startsWith(base + sep)) return refused(400, 'path traversal');
  try {
    const [realBase, realFile] = await Promise.all([realpath(base), realpath(candidate)]);
    if (!realFile.startsWith(realBase + sep)) return refused(404, 'not served');
    const info = await stat(realFile);
    if (!info.isFile()) return refused(404, 'not a file');
    const contentType =
      CONTENT_TYPES[extname(realFile).toLowerCase()] ?? 'application/octet-stream';
    return { kind: 'file', path: realFile, contentType, size: info.size };
  } catch {
    return refused(404, 'not found');
  }
}
