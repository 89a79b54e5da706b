/**
 * Runs a station headless: the line from a factory, the API server with the built UI, until a
 * signal (Ctrl-C) or the caller's `until` says stop; then the server closes and the line stops,
 * in that order, so no UI can send a command to a line that is shutting down.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../api/apiServer.js';
import type { StationFactory } from '../api/stationFactory.js';

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
  // Listen for Ctrl-C from the start, so one pressed while the line starts is not lost.
  const until = options.until ?? untilSignal();
  const station = await options.createStation({ log: print });
  try {
    const server = await startApiServer({
      line: station.line,
      host: options.host,
      port: options.port,
      rendererDir,
      // Its refusals belong in the station's log; the URL (with its token) is printed only.
      log: station.log ?? print,
    });
    try {
      if (!existsSync(join(rendererDir, 'index.html'))) {
        print('note: the UI is not built (renderer/dist): run `npm run build:renderer`.');
      }
      print(options.announce(server.url));
      print('Press Ctrl-C to stop the station.');
      await until;
      print('Stopping the station…');
    } finally {
      await server.close();
    }
  } finally {
    await station.stop();
  }
}
