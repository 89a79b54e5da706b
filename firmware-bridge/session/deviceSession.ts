import { MessageFormatError } from '../codec/cborSchema.js';
import { MAX_MESSAGE, MAX_REQUEST_ID, MIN_MAX_FRAME } from '../codec/frame.js';
import { damagedFrames, FrameDecoder } from '../codec/frameDecoder.js';
import {
  decodeResponse,
  encodeRequest,
  idempotentMessages,
  messageTimeoutMs,
  MessageType,
  secretMessages,
  type DeviceInfo,
  type MessageName,
  type Request,
  type Response,
} from '../codec/messages.js';
import { WireError } from '../codec/wireErrors.js';
import { STALL_MS, type Transport } from '../transports/transport.js';
import { TypedEvent } from '../typedEvent.js';
import { whenDeviceFree } from './busyRetry.js';
import { abortedError, DAMAGED, FrameInbox } from './frameInbox.js';
import { receiveMessage, sendMessage, type TransferLink } from './messageTransfer.js';
import { LinkTrouble } from './linkTrouble.js';
import { noAnswerError } from './noAnswerError.js';
import {
  SESSION_DEFAULTS,
  type RequestOptions,
  type SessionOptions,
  type SessionStats,
} from './sessionOptions.js';
import { SilenceResends } from './silenceResends.js';
import { writeWithin } from './writeDeadline.js';

export type { RequestOptions, SessionOptions, SessionStats } from './sessionOptions.js';

/**
 * One device on one transport: sends requests, matches responses, handles chunked transfers,
 * timeouts and bounded retries. Requests run one at a time, in call order.
 */
export class DeviceSession {
  /** Fires once when the link is gone, with the error every pending request fails with. */
  readonly onClosed = new TypedEvent<WireError>();
  readonly stats: SessionStats;
  private readonly options: typeof SESSION_DEFAULTS & { baudRate: number | undefined };
  private readonly decoder: FrameDecoder;
  private readonly busyWaitMs: number;
  private readonly inbox = new FrameInbox();
  private readonly disposers: (() => void)[] = [];
  private peerMaxFrame = MIN_MAX_FRAME;
  private peerMaxMessage = Number.POSITIVE_INFINITY;
  private nextRequestId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private current: { type: number; requestId: number } | undefined;
  private closedError: WireError | undefined;
  private deviceInfo: DeviceInfo | undefined;
  private readonly trouble: LinkTrouble;
  /** What the chunked transfer needs of this session (messageTransfer.ts). */
  private readonly link: TransferLink = {
    write: (bytes, signal) => this.write(bytes, signal),
    next: (timeoutMs, signal) => this.inbox.next(timeoutMs, signal),
    chunkTimeoutMs: () => this.chunkTimeoutMs(),
    frameLimit: () => this.peerMaxFrame,
    chunkRetries: () => this.options.chunkRetries,
    maxMessage: () => this.options.hostMaxMessage,
    stats: () => this.stats,
    noAnswer: (what, damagedBefore) => this.noAnswer(what, damagedBefore),
  };

  private constructor(
    readonly transport: Transport,
    options: SessionOptions,
  ) {
    this.options = { ...SESSION_DEFAULTS, ...options, baudRate: options.baudRate };
    this.decoder = new FrameDecoder(this.options.hostMaxFrame);
    this.trouble = new LinkTrouble(this.decoder.stats);
    this.busyWaitMs =
      options.busyWaitMs ??
      Math.max(...Object.values(messageTimeoutMs)) * this.options.timeoutScale;
    this.stats = {
      bytesWritten: 0,
      bytesRead: 0,
      payloadBytesSent: 0,
      payloadBytesReceived: 0,
      framesSent: 0,
      retransmissions: 0,
      staleFrames: 0,
      decoder: this.decoder.stats,
    };
    this.disposers.push(
      transport.onData((bytes) => this.onBytes(bytes)),
      transport.onClose((error) => this.onTransportClosed(error)),
    );
  }

  /** Opens the transport (if needed) and flushes the device's receive buffer with a delimiter. */
  static async open(transport: Transport, options: SessionOptions = {}): Promise<DeviceSession> {
    const session = new DeviceSession(transport, options);
    if (!transport.isOpen) await transport.open();
    await session.write(new Uint8Array([0]));
    return session;
  }

  /** What INFO reported, once `identify()` ran. */
  get info(): DeviceInfo | undefined {
    return this.deviceInfo;
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** INFO: identifies the device and agrees frame sizes (PROTOCOL.md §4.1). */
  async identify(options: RequestOptions = {}): Promise<DeviceInfo> {
    return this.request('INFO', { hostMaxFrame: this.options.hostMaxFrame }, options);
  }

  /** Sends one request and resolves with the device's validated response. */
  request<N extends MessageName>(
    name: N,
    req: Request<N>,
    options: RequestOptions = {},
  ): Promise<Response<N>> {
    const run = this.queue.then(() =>
      whenDeviceFree(() => this.exchange(name, req, options), this.busyWaitMs, options.signal),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the session and its transport. */
  async close(): Promise<void> {
    this.markClosed(new WireError('WIRE_DISCONNECTED', 'session closed by the station'));
    for (const dispose of this.disposers.splice(0)) dispose();
    await this.transport.close();
  }

  private async exchange<N extends MessageName>(
    name: N,
    req: Request<N>,
    options: RequestOptions,
  ): Promise<Response<N>> {
    // A cancelled request must not reach the wire: the device would execute it for nobody and
    // answer the next run's first request with BUSY (PROTOCOL.md §6.2).
    throwIfAborted(options.signal);
    if (this.closedError) throw this.closedError;
    const data = encodeRequest(name, req);
    if (!secretMessages.has(name)) return this.transfer(name, data, options, this.link);
    // The request carries a key: every copy the station made of it is zeroed once the request
    // settles, whatever the outcome. That is the CBOR here and each frame written (chunks and
    // re-sends alike; a re-send writes the same array again); frame bodies are zeroed as they are
    // encoded (encodeFrame). A BUSY refusal runs exchange again, which encodes afresh from `req`.
    const written = new Set<Uint8Array>();
    const link: TransferLink = {
      ...this.link,
      secret: true,
      write: (bytes, signal) => {
        written.add(bytes);
        return this.write(bytes, signal);
      },
    };
    try {
      return await this.transfer(name, data, options, link);
    } finally {
      data.fill(0);
      for (const frame of written) frame.fill(0);
    }
  }

  /** Sends the encoded request `data` over `link` and waits for its answer. */
  private async transfer<N extends MessageName>(
    name: N,
    data: Uint8Array,
    options: RequestOptions,
    link: TransferLink,
  ): Promise<Response<N>> {
    const type = MessageType[name];
    if (data.length > Math.min(this.peerMaxMessage, MAX_MESSAGE)) {
      throw new WireError(
        'WIRE_MESSAGE_TOO_LARGE',
        `${name} is ${data.length} bytes; the device accepts ${this.peerMaxMessage}`,
      );
    }
    const requestId = this.allocateRequestId();
    this.current = { type, requestId };
    this.inbox.clear();
    this.stats.payloadBytesSent += data.length;
    const retries = options.retries ?? this.options.retries;
    const timeoutMs =
      options.timeoutMs ??
      messageTimeoutMs[name] * this.options.timeoutScale +
        this.linkMs(data.length + this.options.hostMaxFrame);
    const silence = new SilenceResends(
      idempotentMessages.has(name),
      timeoutMs,
      this.options.silenceResends,
    );
    const damagedBefore = damagedFrames(this.decoder.stats);
    const retransmissionsBefore = this.stats.retransmissions;
    // Re-sends that do not show a frame lost on the way: early ones of a non-idempotent request
    // (the device may just have been working) and those for damage (counted as damage).
    let resendsNotForLoss = 0;
    let answered = false;
    try {
      let lastFrame = await sendMessage(link, type, requestId, data, 0, options.signal);
      silence.startWait(performance.now());
      let attempts = 0;
      for (;;) {
        const frame = await this.inbox.nextOrDamage(
          Math.max(0, silence.wakeAt() - performance.now()),
          options.signal,
        );
        if (frame === null) {
          const step = silence.onSilence(performance.now());
          if (step === 'wait') continue;
          if (step === 'resend') resendsNotForLoss++;
          // Silence past the timeout is asked again only for idempotent requests: a
          // non-idempotent one had its re-sends within its timeout, so a device quiet for all
          // of a key generation is gone, and fails at the guidance.
          else if (!silence.repeatsAfterTimeout || attempts >= retries) {
            throw this.noAnswer(
              `${name} #${requestId}: no answer in ${timeoutMs} ms`,
              damagedBefore,
            );
          } else attempts++;
          throwIfAborted(options.signal);
          this.stats.retransmissions++;
          await link.write(lastFrame, options.signal);
          if (step === 'expired') silence.startWait(performance.now());
          continue;
        }
        if (frame === DAMAGED) {
          // A damaged frame is most likely the answer, garbled on the line: the device replays
          // it to the same request id (PROTOCOL.md §6.2), so asking again at once is safe for
          // every request and spares the wait. Past the re-sends, the answer may still come whole.
          if (attempts >= retries) continue;
          throwIfAborted(options.signal);
          attempts++;
          resendsNotForLoss++;
          this.stats.retransmissions++;
          await link.write(lastFrame, options.signal);
          silence.startWait(performance.now());
          continue;
        }
        if (frame.ackNextOffset !== undefined) {
          // The device is missing part of a chunked request: resume from what it holds.
          if (frame.ackNextOffset >= data.length || attempts >= this.options.chunkRetries) {
            throw new WireError(
              'WIRE_BAD_RESPONSE',
              `${name}: unexpected ACK ${frame.ackNextOffset}`,
            );
          }
          attempts++;
          this.stats.retransmissions++;
          lastFrame = await sendMessage(
            link,
            type,
            requestId,
            data,
            frame.ackNextOffset,
            options.signal,
          );
          continue;
        }
        const body = await receiveMessage(link, frame, options.signal);
        answered = true;
        const response = this.decode(name, body);
        if (name === 'INFO') this.adoptInfo(response as DeviceInfo);
        return response;
      }
    } finally {
      this.current = undefined;
      const resent = this.stats.retransmissions - retransmissionsBefore - resendsNotForLoss;
      this.trouble.endExchange(damagedBefore, answered ? resent : 0);
    }
  }

  private noAnswer(what: string, damagedBefore: number): WireError {
    return noAnswerError(what, this.decoder.stats, damagedBefore, this.trouble.troubledExchanges());
  }

  private decode<N extends MessageName>(name: N, body: Uint8Array): Response<N> {
    try {
      return decodeResponse(name, body);
    } catch (err) {
      if (err instanceof MessageFormatError) {
        throw new WireError('WIRE_BAD_RESPONSE', `${name} response: ${err.message}`);
      }
      throw err;
    }
  }

  private adoptInfo(info: DeviceInfo): void {
    this.deviceInfo = info;
    this.peerMaxFrame = Math.max(MIN_MAX_FRAME, Math.min(info.maxFrame, 65_535));
    this.peerMaxMessage = info.maxMessage;
  }

  private onBytes(bytes: Uint8Array): void {
    this.stats.bytesRead += bytes.length;
    const damagedBefore = this.current && damagedFrames(this.decoder.stats);
    for (const frame of this.decoder.push(bytes)) {
      const current = this.current;
      if (
        current !== undefined &&
        frame.fromDevice &&
        frame.type === current.type &&
        frame.requestId === current.requestId
      ) {
        this.trouble.heardDevice();
        this.inbox.deliver(frame);
      } else {
        this.stats.staleFrames++;
      }
    }
    if (damagedBefore !== undefined && damagedFrames(this.decoder.stats) !== damagedBefore) {
      this.inbox.damaged();
    }
  }

  private onTransportClosed(error: Error | undefined): void {
    this.markClosed(linkLost(error));
  }

  private markClosed(error: WireError): void {
    if (this.closedError) return;
    this.closedError = error;
    this.inbox.fail(error);
    this.onClosed.emit(error);
  }

  /**
   * Writes to the transport within the stall bound (writeDeadline.ts). A write that fails,
   * stalls, or that `signal` cancels while it is pending, ends the session and closes the
   * transport: bytes still queued would reach the device after any later frame's, and only a
   * close drops them. The close is not awaited: a tty may hold its last close until its output
   * drains.
   */
  private async write(bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.closedError) throw this.closedError;
    const deadlineMs = STALL_MS * this.options.timeoutScale + this.linkMs(bytes.length);
    try {
      const stalled = (): WireError =>
        new WireError(
          'WIRE_TIMEOUT',
          `${this.transport.path}: the device stopped taking bytes (a write still waited after ${deadlineMs} ms)`,
        );
      await writeWithin(this.transport.write(bytes), deadlineMs, signal, stalled);
    } catch (err) {
      const error = linkLost(err as Error);
      this.markClosed(error);
      void this.transport.close().catch(() => undefined);
      throw error;
    }
    this.stats.bytesWritten += bytes.length;
    this.stats.framesSent++;
  }

  private allocateRequestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return id;
  }

  private linkMs(bytes: number): number {
    return this.options.baudRate ? Math.ceil((bytes * 10 * 1000) / this.options.baudRate) : 0;
  }

  private chunkTimeoutMs(): number {
    return (
      this.options.chunkTimeoutMs * this.options.timeoutScale +
      this.linkMs(2 * Math.max(this.peerMaxFrame, this.options.hostMaxFrame))
    );
  }
}

/** Fails with the station's cancel error, as FrameInbox does for a wait, when `signal` fired. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * Why the link is gone, as the session reports it. A transport that names its failure (a device
 * that stopped taking bytes) keeps its code; anything else is a disconnect.
 */
function linkLost(error: Error | undefined): WireError {
  if (error instanceof WireError) return error;
  return new WireError('WIRE_DISCONNECTED', error ? error.message : 'port closed', {
    cause: error,
  });
}
