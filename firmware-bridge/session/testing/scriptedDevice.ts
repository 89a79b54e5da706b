import { encodeFrame, type Frame } from '../../codec/frame.js';
import { FrameDecoder } from '../../codec/frameDecoder.js';
import type { DeviceInfo } from '../../codec/messages.js';
import { WireError } from '../../codec/wireErrors.js';
import { MockTransport } from '../../transports/mockTransport.js';
import { DeviceSession } from '../deviceSession.js';

/**
 * A scripted peer for unit tests of the host's rules (timeouts, retries, chunk recovery). The
 * behaviour of real firmware is covered against the simulator in test/.
 */
export class ScriptedDevice {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder(8192);
  private waiters: (() => void)[] = [];

  constructor(
    readonly end: MockTransport,
    private readonly onFrame: (frame: Frame, device: ScriptedDevice) => void,
  ) {
    end.onData((bytes) => {
      for (const frame of this.decoder.push(bytes)) {
        this.frames.push(frame);
        this.onFrame(frame, this);
        this.waiters.splice(0).forEach((w) => w());
      }
    });
  }

  send(frame: Omit<Frame, 'fromDevice' | 'error'> & { error?: boolean }): void {
    void this.end.write(encodeFrame({ fromDevice: true, error: false, ...frame }));
  }

  /** Resolves once `n` frames have arrived from the host. */
  async received(n: number): Promise<void> {
    while (this.frames.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
}

export const info: DeviceInfo = {
  protocolVersion: 1,
  maxFrame: 256,
  serialNumber: 'SN1',
  model: 'M',
  hardwareRevision: 'A',
  firmwareVersion: '1.0.0',
  features: { keygenCurves: ['P-256'], tpm: false, symmetricKeySlot: true, keyInjection: true },
  identityState: 0,
  maxMessage: 4096,
};

export async function setup(onFrame: (frame: Frame, device: ScriptedDevice) => void, options = {}) {
  const [host, deviceEnd] = MockTransport.pair();
  await deviceEnd.open();
  const device = new ScriptedDevice(deviceEnd, onFrame);
  const session = await DeviceSession.open(host, {
    timeoutScale: 0.05,
    chunkTimeoutMs: 100,
    ...options,
  });
  return { session, device, host };
}

export function reply(frame: Frame, data: Uint8Array) {
  return { type: frame.type, requestId: frame.requestId, data };
}

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
  throw new Error('expected a WireError');
}
