import type { BindingInterface } from './bindingTypes.js';
import { SerialTransport } from './serialTransport.js';
import { parseTcpPath, TcpTransport } from './tcpTransport.js';
import type { Transport } from './transport.js';
import { TtySerialTransport } from './ttySerialTransport.js';

export interface TransportFactoryOptions {
  baudRate?: number;
  binding?: BindingInterface;
  connectTimeoutMs?: number;
}

/**
 * Makes the transport a configured path names: `tcp://host:port` for a serial device server,
 * anything else (`/dev/ttyUSB3`, `COM7`, `/dev/pts/4`) for a local serial port.
 */
export function createTransport(path: string, options: TransportFactoryOptions = {}): Transport {
  const tcp = parseTcpPath(path);
  if (tcp) {
    return new TcpTransport(
      options.connectTimeoutMs === undefined
        ? tcp
        : { ...tcp, connectTimeoutMs: options.connectTimeoutMs },
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new Error(`unsupported port address "${path}": use a device path or tcp://host:port`);
  }
  // On Linux the OS binding's port is driven through Node's tty streams (see ttySerialTransport);
  // an injected binding (tests, mocks) and other systems use serialport's own stream.
  if (options.binding === undefined && TtySerialTransport.supported) {
    return new TtySerialTransport(
      options.baudRate === undefined ? { path } : { path, baudRate: options.baudRate },
    );
  }
  const serial: ConstructorParameters<typeof SerialTransport>[0] = { path };
  if (options.baudRate !== undefined) serial.baudRate = options.baudRate;
  if (options.binding !== undefined) serial.binding = options.binding;
  return new SerialTransport(serial);
}
