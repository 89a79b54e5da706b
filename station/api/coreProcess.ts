/**
 * The station core as Electron runs it: a utilityProcess whose parentPort talks to main. It
 * starts the line, serves the station API on every MessagePort main hands over (one per window),
 * and borrows the OS key store from main. Plain Node with fake ports runs the same code in tests.
 */
import { OsKeystoreKeyWrapper } from '../../certs/custody/osKeystoreKeyWrapper.js';
import { commandHandlers, lineEvents } from './commandHandlers.js';
import type { ApiError, MessagePipe } from './contract.js';
import { clipText } from './contractFit.js';
import { mainToCoreSchema, type CorePort, type CoreToMain, type UiPort } from './coreProtocol.js';
import { RemoteSecretStorage } from './remoteSecretStorage.js';
import { serveStationApi, stationCodedError } from './serveStationApi.js';
import { codeOf } from './stationCode.js';
import type { RunningStation, StationFactory } from './stationFactory.js';

/** A station-side MessagePipe over an Electron MessagePortMain. */
export function messagePortPipe(port: UiPort): MessagePipe {
  return {
    send: (data) => port.postMessage(data),
    onMessage(listener) {
      const handler = (event: { data: unknown }): void => listener(event.data);
      port.on('message', handler);
      return () => port.off('message', handler);
    },
    onClose(listener) {
      port.on('close', listener);
      return () => port.off('close', listener);
    },
    close: () => port.close(),
  };
}

/**
 * What main shows when the station cannot start. An error with a station code keeps its code
 * and text; any other (a corrupt config file, Node's ENOENT or EACCES, a native module built
 * for another Node: ERR_DLOPEN_FAILED) gets start wording and its own name, code and message as
 * the detail, never its stack or properties, which may hold configuration values.
 */
export function startError(err: unknown): ApiError {
  const coded = stationCodedError(err);
  if (coded !== undefined) return coded;
  const code = codeOf(err);
  const name = err instanceof Error ? err.name : typeof err;
  const text = err instanceof Error ? err.message : String(err);
  return {
    code: START_FAILED,
    message: 'The station could not start. See the station log.',
    detail: clipText(`${name}${code === undefined ? '' : ` ${code}`}: ${text}`),
  };
}

/** The code of a start failure whose error had no code of its own. */
export const START_FAILED = 'STATION_START_FAILED';

export interface CoreOptions {
  parentPort: CorePort;
  createStation: StationFactory;
  log?: (line: string) => void;
  /** Called once the station has stopped on main's request; the entry exits the process. */
  onStopped?: () => void;
}

/**
 * Runs the core until main says `stop`. Messages that do not match the protocol are logged and
 * dropped: main is trusted, but a bug there must not take the line down.
 */
export function runCore(options: CoreOptions): void {
  const { parentPort } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const post = (message: CoreToMain): void => parentPort.postMessage(message);
  let secrets: RemoteSecretStorage | undefined;
  let station: Promise<RunningStation> | undefined;

  const start = (secretBackend: string | null): void => {
    if (station) return;
    secrets = new RemoteSecretStorage(post, secretBackend);
    station = options.createStation({ osKeyWrapper: new OsKeystoreKeyWrapper(secrets), log });
    station.then(
      () => post({ type: 'ready' }),
      (err: unknown) => {
        const error = startError(err);
        const detail = error.detail === undefined ? '' : ` (${error.detail})`;
        log(`station core: the station could not start: ${error.code}: ${error.message}${detail}`);
        post({ type: 'fatal', error });
      },
    );
  };

  const connectUi = async (port: UiPort): Promise<void> => {
    const running = await station?.catch(() => undefined);
    if (!running) return port.close();
    const { line } = running;
    serveStationApi(messagePortPipe(port), {
      // A window of this app, on this workstation.
      handlers: commandHandlers(line, { local: true }, running.dataDirFlag),
      events: lineEvents(line),
      log: running.log ?? log,
    });
    port.start();
  };

  const stop = async (): Promise<void> => {
    const running = await station?.catch(() => undefined);
    await running?.stop();
    post({ type: 'stopped' });
    options.onStopped?.();
  };

  parentPort.on('message', (event) => {
    const parsed = mainToCoreSchema.safeParse(event.data);
    if (!parsed.success) return log(`station core: ignored a message from main it cannot read`);
    const message = parsed.data;
    switch (message.type) {
      case 'start':
        return start(message.secretBackend);
      case 'connect-ui': {
        const port = event.ports[0];
        if (port) void connectUi(port);
        return;
      }
      case 'secret-result':
        return secrets?.receive(message);
      case 'stop':
        return void stop();
    }
  });
}
