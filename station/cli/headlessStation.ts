/**
 * Runs a station headless: the API server with the built UI, the line from a factory, until a
 * signal (Ctrl-C) or the caller's `until` says stop; then the server closes and the line stops,
 * in that order, so no UI can send a command to a line that is shutting down. The server listens
 * before the line starts: an address it cannot have (a port in use) stops the station before any
 * device port is opened, instead of cutting off the runs the line had begun.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenApiServer, type ListeningApiServer } from '../api/apiServer.js';
import {
  StationStartError,
  type RunningStation,
  type StationFactory,
} from '../api/stationFactory.js';
import { removeServeUrl, urlWithoutToken, writeServeUrl } from './serveUrlFile.js';

/** The built UI (npm run build:renderer). */
export const RENDERER_DIR = fileURLToPath(new URL('../../renderer/dist', import.meta.url));

export interface HeadlessOptions {
  createStation: StationFactory;
  host?: string;
  port?: number;
  rendererDir?: string;
  /** Where the URL and notes go (default console.log). */
  print?: (line: string) => void;
  /** The line that tells the operator where the UI is, given its URL. */
  announce: (url: string) => string;
  /** Stops the station when it settles (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  /**
   * Told why the station did not start (its address refused, its factory failed) before the
   * error is thrown: a real line keeps it in its data folder's log.
   */
  onRefused?: (err: unknown) => void;
  /**
   * A real line's `serve-url` file (serveUrlFile): given, and the output no terminal, the URL is
   * printed without its token and kept in full in this file while the station runs.
   */
  urlFile?: string;
  /** Whether what `print` writes reaches a person's terminal (default: stdout is a TTY). */
  terminal?: boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Runs until told to stop; resolves once everything is closed. */
export async function runHeadless(options: HeadlessOptions): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const rendererDir = options.rendererDir ?? RENDERER_DIR;
  const refused = (err: unknown): unknown => (options.onRefused?.(err), err);
  // One left by a station that was killed holds a dead token; the folder is this station's now.
  if (options.urlFile !== undefined) await removeServeUrl(options.urlFile);
  const urlFile = (options.terminal ?? process.stdout.isTTY === true) ? undefined : options.urlFile;
  // Listen for Ctrl-C from the start, so one pressed while the line starts is not lost.
  const until = options.until ?? untilSignal();
  let server: ListeningApiServer;
  try {
    server = await listenApiServer({
      host: options.host,
      port: options.port,
      rendererDir,
      log: print,
    });
  } catch (err) {
    throw refused(listenRefusal(err, options.host ?? '127.0.0.1', options.port ?? 0));
  }
  let station: RunningStation;
  try {
    station = await options.createStation({ log: print });
  } catch (err) {
    await server.close();
    throw refused(err);
  }
  try {
    try {
      // Its refusals belong in the station's log; the URL (with its token) is printed only, and
      // on a real line whose output is no terminal (journald) kept in its file instead.
      server.serve(station.line, station.log ?? print, station.dataDirFlag);
      if (!existsSync(join(rendererDir, 'index.html'))) {
        print('note: the UI is not built (renderer/dist): run `npm run build:renderer`.');
      }
      if (urlFile === undefined) print(options.announce(server.url));
      else {
        await writeServeUrl(urlFile, server.url);
        print(options.announce(urlWithoutToken(server.url)));
        print(
          `Its session token is not printed here, where a log may keep it: the full address is in ${urlFile} (readable by this user only, removed when the station stops).`,
        );
      }
      print('Press Ctrl-C to stop the station.');
      await until;
      print('Stopping the station…');
    } finally {
      // First: its token dies with the server, whether or not the server closes cleanly.
      if (urlFile !== undefined) await removeServeUrl(urlFile);
      await server.close();
    }
  } finally {
    await station.stop();
  }
}

/**
 * The listen error as the operator reads it, with a stable code; the system's words stay in
 * the detail. Others (a bad host name) are thrown as they came.
 */
export function listenRefusal(err: unknown, host: string, port: number): unknown {
  const { code, message } = err as NodeJS.ErrnoException;
  const stopped = 'so Line Station did not start and opened no device port';
  if (code === 'EADDRINUSE') {
    return new StationStartError(
      'STATION_PORT_IN_USE',
      `Port ${port} on ${host} is already in use by another program, ${stopped}: pick another with --port PORT, or stop what holds it.`,
      message,
    );
  }
  if (code === 'EACCES') {
    return new StationStartError(
      'STATION_PORT_DENIED',
      `This user may not listen on port ${port} (ports below 1024 need administrator rights), ${stopped}: pick another with --port PORT.`,
      message,
    );
  }
  if (code === 'EADDRNOTAVAIL') {
    return new StationStartError(
      'STATION_HOST_UNAVAILABLE',
      `This machine has no address ${host}, ${stopped}: give one of its own addresses with --host, or leave --host out (127.0.0.1).`,
      message,
    );
  }
  return err;
}
