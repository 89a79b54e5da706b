import { DeviceSession, type SessionOptions } from '../../firmware-bridge/session/deviceSession.js';
import { createTransport } from '../../firmware-bridge/transports/openTransport.js';
import { hungUp } from './portHangUp.js';
import type { PortWatcher } from './portWatcher.js';

/**
 * Opens a device session on `port` and has `watcher` hold the port while it is open: the open
 * tty reports an unplug itself, so the port needs no polling until the session closes. A
 * hang-up means the device went, so the port counts as gone at once (see PortWatcher.lost); a
 * close by the station only lets go of the port.
 */
export async function openWatchedSession(
  watcher: PortWatcher,
  port: string,
  baudRate: number | undefined,
  sessionOptions: SessionOptions,
): Promise<DeviceSession> {
  const transport = createTransport(port, baudRate ? { baudRate } : {});
  const session = await DeviceSession.open(transport, sessionOptions);
  watcher.hold(port);
  transport.onClose((error) => {
    if (hungUp(error)) watcher.lost(port);
  });
  session.onClosed.on(() => watcher.release(port));
  if (session.isClosed) watcher.release(port);
  return session;
}
