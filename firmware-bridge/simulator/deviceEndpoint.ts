import { performance } from 'node:perf_hooks';
import { encodeFrame, MIN_MAX_FRAME, type Frame } from '../codec/frame.js';
import { FrameDecoder } from '../codec/frameDecoder.js';
import { decodeRequest, encodeErrorBody, messageNames } from '../codec/messages.js';
import { DeviceErrorCode, type DeviceErrorName } from '../codec/wireErrors.js';
import { TypedEvent } from '../typedEvent.js';
import type { DeviceFirmware } from './deviceFirmware.js';
import { deviceWorkMs, type DeviceLatencies } from './deviceLatencies.js';
import { refuse, type DeviceRefusal } from './deviceOutcome.js';
import { RequestReassembly } from './requestReassembly.js';
import type { EndpointStats, RequestEvent, RequestStartEvent } from './endpointEvents.js';
import { CachedResponse } from './responseCache.js';

export type { EndpointStats, RequestEvent, RequestStartEvent } from './endpointEvents.js';

export interface EndpointOptions {
  firmware: DeviceFirmware;
  latencies: DeviceLatencies;
  /** Hands bytes to the link toward the host, with when (line time) they were ready. */
  transmit: (bytes: Uint8Array, readyAt: number) => void;
}

/**
 * The device side of the wire (PROTOCOL.md §2, §5, §6.2): bytes in, frames out. Reassembles
 * chunked requests, runs one request at a time through the firmware with its simulated work
 * time, answers others with BUSY meanwhile, chunks large answers to the host's frame limit and
 * replays the last answer to a repeated request instead of executing it again.
 */
export class DeviceEndpoint {
  readonly onRequest = new TypedEvent<RequestEvent>();
  readonly onRequestStart = new TypedEvent<RequestStartEvent>();
  readonly stats: EndpointStats = {
    executions: 0,
    replays: 0,
    busyAnswers: 0,
    acksSent: 0,
    transferErrors: 0,
    framesIgnored: 0,
  };
  readonly decoder: FrameDecoder;
  private readonly reassembly: RequestReassembly;
  private hostMaxFrame = MIN_MAX_FRAME;
  private cache: CachedResponse | undefined;
  private executing: { type: number; requestId: number } | undefined;
  /** Changes on reset; work started under an older value is dropped. */
  private epoch = 0;
  private wakeSleeper: (() => void) | undefined;
  /**
   * Line time (performance.now() scale) of what the device is doing now: when the frame being
   * handled arrived, or when the work being answered ended. Answers leave at this time.
   */
  private lineTime = 0;

  constructor(private readonly options: EndpointOptions) {
    this.decoder = new FrameDecoder(options.firmware.config.maxFrame);
    this.reassembly = new RequestReassembly(options.firmware.config.maxMessage);
  }

  get isBusy(): boolean {
    return this.executing !== undefined;
  }

  /** Bytes as the device's UART delivers them; `arrivedAt` is when they arrived (line time). */
  receive(bytes: Uint8Array, arrivedAt = performance.now()): void {
    for (const frame of this.decoder.push(bytes)) {
      this.lineTime = arrivedAt;
      this.onFrame(frame);
    }
  }

  /** Power cycle: the partial frame, transfer, cache, negotiated limit and work in flight go. */
  reset(): void {
    this.epoch++;
    this.decoder.reset();
    this.reassembly.clear();
    this.cache = undefined;
    this.executing = undefined;
    this.hostMaxFrame = MIN_MAX_FRAME;
    this.wakeSleeper?.();
  }

  private onFrame(frame: Frame): void {
    // The device hears its own direction only on a looped-back or miswired line.
    if (frame.fromDevice) return this.ignore();
    if (frame.ackNextOffset !== undefined) return this.onHostAck(frame);
    const executing = this.executing;
    if (executing !== undefined) {
      if (executing.type === frame.type && executing.requestId === frame.requestId)
        return this.ignore();
      this.stats.busyAnswers++;
      return this.sendError(frame, 'BUSY', 'executing another request');
    }
    const cached = this.cache;
    if (cached !== undefined && cached.matches(frame.type, frame.requestId)) {
      // Only the whole request or its last chunk stands for "the answer was lost".
      const isLast =
        frame.chunk === undefined || frame.chunk.offset + frame.data.length === frame.chunk.total;
      if (!isLast) return this.ignore();
      this.stats.replays++;
      return this.sendResponseChunk(cached, 0);
    }
    if (frame.chunk === undefined) {
      this.reassembly.clear();
      return void this.execute(frame.type, frame.requestId, frame.data);
    }
    const step = this.reassembly.accept(frame.type, frame.requestId, frame.chunk, frame.data);
    switch (step.kind) {
      case 'ack':
        this.stats.acksSent++;
        return this.send({
          ...this.answerTo(frame),
          ackNextOffset: step.nextOffset,
          data: new Uint8Array(0),
        });
      case 'refuse':
        this.stats.transferErrors++;
        return this.sendError(frame, step.refusal.refused, step.refusal.detail);
      case 'complete':
        return void this.execute(frame.type, frame.requestId, step.message);
    }
  }

  /** The host asks for the chunk of the last answer at `nextOffset` (PROTOCOL.md §5). */
  private onHostAck(frame: Frame): void {
    const cached = this.cache;
    const offset = frame.ackNextOffset!;
    if (
      this.executing !== undefined ||
      cached === undefined ||
      !cached.matches(frame.type, frame.requestId) ||
      offset >= cached.data.length
    ) {
      return this.ignore();
    }
    this.sendResponseChunk(cached, offset);
  }

  private async execute(type: number, requestId: number, data: Uint8Array): Promise<void> {
    const name = messageNames.get(type) ?? 'UNKNOWN';
    const epoch = this.epoch;
    this.executing = { type, requestId };
    this.onRequestStart.emit({ name, type, requestId });
    // A fault hooked on the start may have rebooted the device already.
    if (epoch !== this.epoch) return;
    this.stats.executions++;
    // The work starts when the request's last byte arrived, not when a host timer said so.
    const started = this.lineTime;
    let outcome;
    try {
      outcome = await this.options.firmware.execute(type, data);
    } catch (err) {
      // A firmware bug, not a host error: stay usable, but fail loudly.
      if (epoch === this.epoch) this.executing = undefined;
      throw err;
    }
    if (epoch !== this.epoch) return;
    if (outcome.status === 'aborted') {
      this.executing = undefined;
      return;
    }
    const { latencies } = this.options;
    const deviceMs =
      outcome.status === 'ok' && name !== 'UNKNOWN'
        ? deviceWorkMs(name, latencies, outcome.work)
        : latencies.commandMs;
    // Real crypto time counts toward the simulated time: the device takes deviceMs in total.
    await this.sleepUntil(started + deviceMs);
    if (epoch !== this.epoch) return;
    this.executing = undefined;
    this.lineTime = started + deviceMs;
    if (outcome.status === 'ok' && name === 'INFO') {
      this.hostMaxFrame = decodeRequest('INFO', data).hostMaxFrame;
    }
    const failed = outcome.status === 'error';
    this.cache = new CachedResponse(
      type,
      requestId,
      failed,
      outcome.status === 'error' ? this.errorBody(outcome.refusal) : outcome.data,
      Math.min(this.options.firmware.config.maxFrame, this.hostMaxFrame),
    );
    this.sendResponseChunk(this.cache, 0);
    const event: RequestEvent = {
      name,
      type,
      requestId,
      deviceMs,
      elapsedMs: performance.now() - started,
    };
    if (outcome.status === 'error') event.error = outcome.refusal.refused;
    this.onRequest.emit(event);
  }

  private sendResponseChunk(cached: CachedResponse, offset: number): void {
    this.options.transmit(cached.frameAt(offset), this.lineTime);
  }

  /**
   * Waits until `target` (performance.now() time); reset() ends the wait early. Node timers
   * may fire up to a millisecond before the monotonic clock says so, hence the re-check.
   */
  private async sleepUntil(target: number): Promise<void> {
    const epoch = this.epoch;
    for (let remaining = target - performance.now(); remaining > 0 && epoch === this.epoch;) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.wakeSleeper = undefined;
          resolve();
        };
        const timer = setTimeout(wake, Math.ceil(remaining));
        this.wakeSleeper = wake;
      });
      remaining = target - performance.now();
    }
  }

  private errorBody(refusal: DeviceRefusal): Uint8Array {
    const code = DeviceErrorCode[refusal.refused];
    return encodeErrorBody(
      refusal.detail === undefined ? { code } : { code, detail: refusal.detail },
    );
  }

  private sendError(to: Frame, name: DeviceErrorName, detail?: string): void {
    this.send({ ...this.answerTo(to), error: true, data: this.errorBody(refuse(name, detail)) });
  }

  private answerTo(frame: Frame): Frame {
    return {
      type: frame.type,
      requestId: frame.requestId,
      fromDevice: true,
      error: false,
      data: new Uint8Array(0),
    };
  }

  private send(frame: Frame): void {
    this.options.transmit(encodeFrame(frame), this.lineTime);
  }

  private ignore(): void {
    this.stats.framesIgnored++;
  }
}
