import type { EventEmitter } from 'node:events';
import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { BindingInterface } from './bindingTypes.js';

const readAsync = promisify(read);

/** The parts of a Unix port binding (bindings-cpp's LinuxPortBinding) the read loop needs. */
interface PollingPort {
  fd: number | null;
  readonly isOpen: boolean;
  readonly poller: Pick<EventEmitter, 'once'>;
  read(
    buffer: Buffer,
    offset: number,
    length: number,
  ): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function isPollingPort(port: unknown): port is PollingPort {
  const p = port as Partial<PollingPort> | null;
  return (
    typeof p?.fd === 'number' &&
    typeof p.poller?.once === 'function' &&
    typeof p.read === 'function'
  );
}

/** Marks an error so @serialport/stream treats it as an unplug (close with a disconnect error). */
function disconnectError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { disconnect: true });
}

/**
 * Reads from a serial tty and reports a hang-up as a disconnect. The tty is non-blocking with
 * VMIN=1, so "no data" is EAGAIN and a read of 0 bytes means end of file: the USB adapter was
 * pulled or the pty master went away. bindings-cpp retries 0-byte reads at once, which spins a
 * core at 100% and never reports the unplug; this loop gives up instead.
 */
export function hangupAwareRead(port: PollingPort): PollingPort['read'] {
  return async (buffer, offset, length) => {
    for (;;) {
      const fd = port.fd;
      if (!port.isOpen || fd === null) {
        throw Object.assign(new Error('Port is not open'), { canceled: true });
      }
      try {
        const { bytesRead } = await readAsync(fd, buffer, offset, length, null);
        if (bytesRead === 0) throw disconnectError('the device hung up (end of file on the tty)');
        return { buffer, bytesRead };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') {
          if ((err as { disconnect?: boolean }).disconnect) throw err;
          throw disconnectError(`serial read failed: ${code ?? (err as Error).message}`, err);
        }
        // The port may have closed while the read was in the thread pool: its native poller is
        // destroyed then, and polling it again crashes the process (use after free).
        if (!port.isOpen || port.fd === null) {
          throw Object.assign(new Error('Port is not open'), { canceled: true });
        }
        await new Promise<void>((resolve, reject) =>
          port.poller.once('readable', (pollErr?: Error) =>
            pollErr ? reject(pollErr) : resolve(),
          ),
        );
      }
    }
  };
}

/** Wraps a binding so that the ports it opens on Linux report hang-ups (see hangupAwareRead). */
export function withHangupDetection(binding: BindingInterface): BindingInterface {
  if (process.platform !== 'linux') return binding;
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      if (isPollingPort(port)) port.read = hangupAwareRead(port);
      return port;
    },
  };
}
