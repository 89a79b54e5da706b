import { autoDetect } from '@serialport/bindings-cpp';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';
import { ReadStream, WriteStream } from 'node:tty';
import { WireError } from '../codec/wireErrors.js';
import type { Disposer } from '../typedEvent.js';
import { LINE_8N1, type BindingPort } from './bindingTypes.js';
import { STALL_MS, type Transport } from './transport.js';
import { TransportEvents } from './transportEvents.js';

/** What this transport uses of libuv's tty handle behind a tty.WriteStream (Node internals). */
interface TtyHandle {
  setBlocking(blocking: boolean): number;
  /** Bytes waiting for the tty; it falls as the tty takes part of a write. */
  writeQueueSize: number;
}

function ttyHandle(output: WriteStream): TtyHandle | undefined {
  return (output as unknown as { _handle?: TtyHandle })._handle;
}

/** Bytes one read may take; a tty hands over at most 4 KiB at a time. */
const READ_BUFFER_BYTES = 8192;

/**
 * A local serial port on Linux with its I/O on the event loop. The serialport binding still opens
 * the port and sets its line (baud rate, 8N1, raw, no flow control: termios belongs to the
 * device, not to one file descriptor); the bytes then flow through Node's own tty streams.
 *
 * Why not the binding's stream: it reads and writes through the libuv thread pool, and each frame
 * costs a poll, a pool read that returns it, a pool read that returns EAGAIN and the wake-ups
 * between them. A line runs dozens of ports all day; on the event loop a frame is one readiness
 * event and one read. A hang-up (an unplugged USB adapter, a closed pty) ends the read stream
 * with EIO or end-of-file, which is reported as the close of the link.
 *
 * Writes go straight to the binding's descriptor (non-blocking) when nothing is queued: a frame
 * is one system call that the tty takes whole, where a stream write also builds a write request,
 * runs the Writable bookkeeping and finishes a loop turn later. Whatever the tty does not take
 * at once (its buffer is full) goes through the write stream, and so does every write after it
 * until the stream has drained, so bytes leave in the order they were written.
 */
export class TtySerialTransport implements Transport {
  readonly path: string;
  private readonly events = new TransportEvents();
  private readonly baudRate: number;
  private readonly stallMs: number;
  private port: BindingPort | undefined;
  /** The binding's descriptor: non-blocking, locked, the target of direct writes. */
  private fd = -1;
  private input: ReadStream | undefined;
  private output: WriteStream | undefined;
  private closing: Promise<void> | undefined;

  /** `stallMs`: see STALL_MS; tests shorten it. */
  constructor(options: { path: string; baudRate?: number; stallMs?: number }) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115_200;
    this.stallMs = options.stallMs ?? STALL_MS;
  }

  /** True where this transport works: Linux, with the OS binding. */
  static get supported(): boolean {
    return process.platform === 'linux';
  }

  get isOpen(): boolean {
    return this.port !== undefined && this.closing === undefined;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    let port: BindingPort;
    try {
      port = await autoDetect().open({
        path: this.path,
        baudRate: this.baudRate,
        ...LINE_8N1,
      });
    } catch (err) {
      throw new WireError('WIRE_PORT_OPEN_FAILED', `${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const fd = (port as { fd?: unknown }).fd;
    if (typeof fd !== 'number') {
      await port.close();
      throw new WireError(
        'WIRE_PORT_OPEN_FAILED',
        `${this.path}: the binding exposes no descriptor`,
      );
    }
    // The streams get a descriptor of their own. libuv reopens a tty by name for each stream and
    // puts the new file description on the descriptor it was given: on the binding's, that would
    // close the description holding the binding's exclusive lock (flock), and a second station
    // process (`station provision` on a port `serve` watches) could open the port and run on the
    // same device. The binding's descriptor keeps the lock and takes the direct writes.
    let streamFd: number;
    try {
      streamFd = openSync(this.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (err) {
      await port.close().catch(() => undefined);
      throw new WireError('WIRE_PORT_OPEN_FAILED', `${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.port = port;
    this.fd = fd;
    this.closing = undefined;
    this.events.rearm();
    // Reads land in this port's own buffer and are handed on as a copy of what arrived: the
    // stream's default allocates 64 KiB per read and passes each chunk through Readable's
    // buffering, a cost paid on every frame of every port. net.Socket's constructor takes
    // `onread` as net.connect() does (Node 12+); @types/node lists it only for connect.
    const readOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (length, buffer) => {
          // A copy: the next read reuses the buffer, and Buffer#slice would only be a view of it.
          this.events.emitData(Uint8Array.prototype.slice.call(buffer, 0, length));
          return true; // keep reading; false would pause the stream
        },
      },
    };
    const input = new ReadStream(streamFd, readOptions);
    const output = new WriteStream(streamFd);
    // Each stream now reads and writes its own reopened descriptor, which it closes itself;
    // streamFd is a spare copy. Should libuv have failed to reopen, a stream uses streamFd as it
    // is and closes it with the stream.
    const handleFds = [input, output].map(
      (s) => (s as unknown as { _handle?: { fd?: number } })._handle?.fd,
    );
    if (!handleFds.includes(streamFd)) closeSync(streamFd);
    // tty.WriteStream makes its writes blocking (right for a terminal's stdout). On a serial
    // port that would stall the whole station, every slot, whenever one device stops taking
    // bytes (a hung USB CDC-ACM firmware stops reading and the tty buffer fills up).
    ttyHandle(output)?.setBlocking(false);
    this.input = input;
    this.output = output;
    input.on('end', () => this.lost());
    input.on('error', (err: Error) => this.lost(err));
    output.on('error', (err: Error) => this.lost(err));
    input.resume();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const output = this.output;
    if (!output || !this.isOpen) throw new Error(`${this.path} is not open`);
    let rest = bytes;
    if (output.writableLength === 0) {
      let written: number;
      try {
        written = writeSync(this.fd, bytes);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          this.lost(err as Error);
          throw err;
        }
        written = 0;
      }
      if (written === bytes.length) return;
      rest = bytes.subarray(written);
    }
    await new Promise<void>((resolve, reject) => {
      const stopWatching = this.watchStall(output, (error) => {
        reject(error);
        this.lost(error);
      });
      output.write(rest, (err) => {
        stopWatching();
        if (err) reject(err);
        // Closing drops what the tty had not taken yet, and the stream reports no error for it.
        else if (this.output !== output)
          reject(new Error(`${this.path} closed before the bytes left`));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (!this.port) return;
    await this.release();
  }

  onData(listener: (bytes: Uint8Array) => void): Disposer {
    return this.events.onData(listener);
  }

  onClose(listener: (error?: Error) => void): Disposer {
    return this.events.onClose(listener);
  }

  /** Calls `stalled` once the tty has taken none of the queued bytes for a whole stallMs. */
  private watchStall(output: WriteStream, stalled: (error: WireError) => void): () => void {
    const queued = (): number => ttyHandle(output)?.writeQueueSize ?? 0;
    let last = queued();
    const timer = setInterval(() => {
      const now = queued();
      if (now > 0 && now === last) {
        clearInterval(timer);
        stalled(
          new WireError(
            'WIRE_TIMEOUT',
            `${this.path}: the device took no bytes for ${this.stallMs} ms`,
          ),
        );
      }
      last = now;
    }, this.stallMs);
    return () => clearInterval(timer);
  }

  /** The link went away under us: reported once, as the close of the link. */
  private lost(err?: Error): void {
    if (this.closing) return;
    this.events.emitClose(err ?? new Error('the device hung up (end of file on the tty)'));
    void this.release();
  }

  /** Closes the streams, then the binding's descriptor; once, however many callers ask. */
  private release(): Promise<void> {
    this.closing ??= (async () => {
      const { input, output, port } = this;
      this.input = undefined;
      this.output = undefined;
      input?.destroy();
      output?.destroy();
      this.port = undefined;
      this.fd = -1;
      // Bytes the device has not taken (a hung firmware, a stalled adapter) would make the
      // kernel's last close of the tty wait for them: up to closing_wait, 30 s by default on
      // USB serial and UART drivers, on a libuv pool thread. A few such ports and that pool,
      // which also opens every port and resolves DPS's host name, stops. Nothing written to a
      // port that is closing is still wanted, so it is dropped first.
      await port?.flush().catch(() => undefined);
      try {
        await port?.close();
      } catch {
        // Already gone with the device; nothing is left to release.
      }
      this.events.emitClose();
    })();
    return this.closing;
  }
}
