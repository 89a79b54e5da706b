import { afterEach, describe, expect, it } from 'vitest';
import { frameBodyLength, type Frame } from '../codec/frame.js';
import {
  decodeErrorBody,
  decodeResponse,
  encodeRequest,
  type MessageName,
} from '../codec/messages.js';
import { DeviceErrorCode } from '../codec/wireErrors.js';
import { DeviceEndpoint, type RequestEvent } from './deviceEndpoint.js';
import type { FirmwareConfig } from './deviceFirmware.js';
import { deviceWorkMs, resolveLatencies, type DeviceLatencies } from './deviceLatencies.js';
import {
  HostWire,
  hostFrame,
  makeTestDevice,
  testTpm,
  withTpm,
  type TestDevice,
} from './testKit.js';

const devices: TestDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.cleanup();
});

async function rig(config: Partial<FirmwareConfig> = {}, latencies: Partial<DeviceLatencies> = {}) {
  const device = await makeTestDevice(config);
  devices.push(device);
  const wire = new HostWire();
  const resolved = resolveLatencies({
    commandMs: 0,
    keygenMs: 0,
    signMs: 0,
    flashWritePer4KiBMs: 0,
    ...latencies,
  });
  const endpoint = new DeviceEndpoint({
    firmware: device.firmware,
    latencies: resolved,
    transmit: wire.transmit,
  });
  const events: RequestEvent[] = [];
  endpoint.onRequest.on((e) => events.push(e));
  const completed = () =>
    new Promise<RequestEvent>((resolve) => {
      const dispose = endpoint.onRequest.on((e) => {
        dispose();
        resolve(e);
      });
    });
  return { device, wire, endpoint, events, completed, latencies: resolved };
}

/** A SET_CONFIG whose CBOR is well over one 256-byte frame. */
function bigConfig(): Uint8Array {
  const extra: Record<string, string> = {};
  for (let i = 0; i < 4; i++) extra[`key${i}`] = String(i).repeat(150);
  return encodeRequest('SET_CONFIG', { idScope: '0ne001', extra });
}

function chunk(
  name: MessageName,
  requestId: number,
  message: Uint8Array,
  offset: number,
  size: number,
  total = message.length,
) {
  return hostFrame(
    name,
    requestId,
    message.subarray(offset, Math.min(offset + size, message.length)),
    {
      chunk: { offset, total },
    },
  );
}

const SLICE_256 = 256 - 5 - 8 - 4;

describe('chunked requests', () => {
  it('ACKs every non-last chunk and re-ACKs a gap or a repeat with the offset it needs', async () => {
    const { endpoint, wire, device } = await rig({ maxFrame: 256 });
    const message = bigConfig();
    expect(message.length).toBeGreaterThan(2 * SLICE_256);
    const acks: number[] = [];
    const send = async (offset: number) => {
      endpoint.receive(chunk('SET_CONFIG', 9, message, offset, SLICE_256));
      const f = await wire.next();
      acks.push(f.ackNextOffset ?? -1);
      return f;
    };
    await send(0);
    await send(2 * SLICE_256); // the chunk at SLICE_256 was lost on the line
    await send(0); // a repeat
    await send(SLICE_256);
    expect(acks).toEqual([SLICE_256, SLICE_256, SLICE_256, 2 * SLICE_256]);
    endpoint.receive(chunk('SET_CONFIG', 9, message, 2 * SLICE_256, SLICE_256));
    const response = await wire.next();
    expect(response).toMatchObject({ type: 0x03, requestId: 9, fromDevice: true, error: false });
    expect(response.ackNextOffset).toBeUndefined();
    expect(device.state.staged.config.extra?.key3).toBe('3'.repeat(150));
  });

  it('answers TRANSFER when the total changes and TOO_LARGE above maxMessage', async () => {
    const { endpoint, wire } = await rig({ maxFrame: 256, maxMessage: 700 });
    const message = bigConfig();
    expect(message.length).toBeLessThanOrEqual(700);
    endpoint.receive(chunk('SET_CONFIG', 3, message, 0, SLICE_256));
    expect((await wire.next()).ackNextOffset).toBe(SLICE_256);
    endpoint.receive(chunk('SET_CONFIG', 3, message, SLICE_256, SLICE_256, message.length + 1));
    expect(errorCode(await wire.next())).toBe(DeviceErrorCode.TRANSFER);
    endpoint.receive(chunk('SET_CONFIG', 4, new Uint8Array(701), 0, SLICE_256));
    expect(errorCode(await wire.next())).toBe(DeviceErrorCode.TOO_LARGE);
  });

  it('discards a transfer when a frame with a new request id arrives', async () => {
    const { endpoint, wire } = await rig({ maxFrame: 256 });
    const message = bigConfig();
    endpoint.receive(chunk('SET_CONFIG', 5, message, 0, SLICE_256));
    expect((await wire.next()).ackNextOffset).toBe(SLICE_256);
    endpoint.receive(hostFrame('GET_CONFIG', 6, encodeRequest('GET_CONFIG', { bank: 1 })));
    expect(await wire.next()).toMatchObject({ requestId: 6, error: false });
    // The old transfer is gone: its next chunk is a gap at 0.
    endpoint.receive(chunk('SET_CONFIG', 5, message, SLICE_256, SLICE_256));
    expect((await wire.next()).ackNextOffset).toBe(0);
  });
});

describe('chunked responses', () => {
  it('cuts answers to 256 bytes before INFO and to the host limit after it, served by ACKs', async () => {
    const { endpoint, wire } = await rig({ maxFrame: 1024 });
    endpoint.receive(hostFrame('SET_CONFIG', 1, bigConfig()));
    await wire.next();
    const fetch = async (requestId: number, limit: number) => {
      endpoint.receive(
        hostFrame('GET_CONFIG', requestId, encodeRequest('GET_CONFIG', { bank: 1 })),
      );
      const first = await wire.next();
      const total = first.chunk!.total;
      const parts = [first];
      while (parts.at(-1)!.chunk!.offset + parts.at(-1)!.data.length < total) {
        const last = parts.at(-1)!;
        const next = last.chunk!.offset + last.data.length;
        endpoint.receive(
          hostFrame('GET_CONFIG', requestId, new Uint8Array(0), { ackNextOffset: next }),
        );
        parts.push(await wire.next());
      }
      for (const p of parts) expect(frameBodyLength(p)).toBeLessThanOrEqual(limit);
      const body = Buffer.concat(parts.map((p) => p.data));
      expect(decodeResponse('GET_CONFIG', body).extra?.key2).toBe('2'.repeat(150));
      return parts.length;
    };
    expect(await fetch(2, 256)).toBe(3);
    endpoint.receive(hostFrame('INFO', 3, encodeRequest('INFO', { hostMaxFrame: 400 })));
    expect((await wire.next()).requestId).toBe(3);
    expect(await fetch(4, 400)).toBe(2);
  });

  it('re-sends the chunk a repeated ACK names, byte for byte', async () => {
    const { endpoint, wire } = await rig({ maxFrame: 1024 });
    endpoint.receive(hostFrame('SET_CONFIG', 1, bigConfig()));
    await wire.next();
    endpoint.receive(hostFrame('GET_CONFIG', 2, encodeRequest('GET_CONFIG', { bank: 1 })));
    const first = await wire.next();
    const ack = hostFrame('GET_CONFIG', 2, new Uint8Array(0), { ackNextOffset: first.data.length });
    endpoint.receive(ack);
    await wire.next();
    endpoint.receive(ack);
    await wire.next();
    expect(wire.raw.at(-1)).toEqual(wire.raw.at(-2));
  });
});

describe('GET_EK', () => {
  it('sends an EK certificate larger than maxFrame in chunks, after the EK read time', async () => {
    const tpm = testTpm(1400);
    const { endpoint, wire, completed } = await rig(withTpm(tpm), { commandMs: 5, ekReadMs: 20 });
    endpoint.receive(hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 4096 })));
    await wire.next();
    const done = completed();
    endpoint.receive(hostFrame('GET_EK', 2, encodeRequest('GET_EK', {})));
    const parts = [await wire.next()];
    const total = parts[0]!.chunk!.total;
    for (let next = parts[0]!.data.length; next < total; next += parts.at(-1)!.data.length) {
      endpoint.receive(hostFrame('GET_EK', 2, new Uint8Array(0), { ackNextOffset: next }));
      parts.push(await wire.next());
    }
    // The device's own limit (512) caps its frames, below the host's 4096.
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) {
      expect(p).toMatchObject({ type: 0x14, requestId: 2, fromDevice: true, error: false });
      expect(p.chunk).toMatchObject({ total });
      expect(frameBodyLength(p)).toBeLessThanOrEqual(512);
    }
    expect(decodeResponse('GET_EK', Buffer.concat(parts.map((p) => p.data)))).toEqual(tpm);
    expect((await done).deviceMs).toBe(25);
  });
});

describe('response cache', () => {
  it('replays the answer to a repeated request instead of executing it again', async () => {
    const { endpoint, wire, events, device } = await rig();
    const gen = hostFrame(
      'GEN_KEY_CSR',
      77,
      encodeRequest('GEN_KEY_CSR', { curve: 'P-256', commonName: 'd' }),
    );
    endpoint.receive(gen);
    await wire.next();
    const key = device.state.staged.identityKey;
    endpoint.receive(gen);
    await wire.next();
    expect(wire.raw.at(-1)).toEqual(wire.raw.at(-2));
    expect(events.map((e) => e.name)).toEqual(['GEN_KEY_CSR']);
    expect(endpoint.stats).toMatchObject({ executions: 1, replays: 1 });
    expect(device.state.staged.identityKey).toEqual(key);
  });

  it('replays on a repeated last chunk of a chunked request', async () => {
    const { endpoint, wire, events } = await rig({ maxFrame: 256 });
    const message = bigConfig();
    for (let offset = 0; offset < message.length; offset += SLICE_256) {
      endpoint.receive(chunk('SET_CONFIG', 12, message, offset, SLICE_256));
      await wire.next();
    }
    const lastOffset = Math.floor((message.length - 1) / SLICE_256) * SLICE_256;
    endpoint.receive(chunk('SET_CONFIG', 12, message, lastOffset, SLICE_256));
    expect(await wire.next()).toMatchObject({
      requestId: 12,
      error: false,
      data: new Uint8Array([0xa0]),
    });
    expect(events).toHaveLength(1);
  });

  it('forgets the cache on reset, as a reboot does', async () => {
    const { endpoint, wire, events } = await rig();
    const info = hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 256 }));
    endpoint.receive(info);
    await wire.next();
    endpoint.reset();
    endpoint.receive(info);
    await wire.next();
    expect(events).toHaveLength(2);
  });
});

describe('busy device', () => {
  it('answers another request with BUSY and ignores a repeat of the one executing', async () => {
    const { endpoint, wire, events, completed, latencies } = await rig({}, { commandMs: 40 });
    const done = completed();
    endpoint.receive(hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 256 })));
    endpoint.receive(hostFrame('GET_CONFIG', 2, encodeRequest('GET_CONFIG', { bank: 0 })));
    endpoint.receive(hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 256 })));
    const busy = await wire.next();
    expect(busy).toMatchObject({ type: 0x02, requestId: 2, error: true });
    expect(errorCode(busy)).toBe(DeviceErrorCode.BUSY);
    const event = await done;
    expect(await wire.next()).toMatchObject({ type: 0x01, requestId: 1, error: false });
    expect(wire.unread).toBe(0);
    expect(events).toHaveLength(1);
    expect(event.deviceMs).toBe(deviceWorkMs('INFO', latencies));
    expect(event.elapsedMs).toBeGreaterThanOrEqual(event.deviceMs - 1);
  });

  it('ignores a repeat of a GEN_KEY_CSR while generating, and replays the answer to one after', async () => {
    const { endpoint, wire, events, completed, device } = await rig({}, { keygenMs: 40 });
    const gen = hostFrame(
      'GEN_KEY_CSR',
      31,
      encodeRequest('GEN_KEY_CSR', { curve: 'P-256', commonName: 'd' }),
    );
    const done = completed();
    endpoint.receive(gen);
    endpoint.receive(gen); // the host's re-send after silence, while the key is being made
    expect(endpoint.stats).toMatchObject({ executions: 1, framesIgnored: 1 });
    await done;
    const answer = await wire.next();
    expect(wire.unread).toBe(0);
    const key = device.state.staged.identityKey;
    endpoint.receive(gen); // a re-send that crossed the answer
    expect(await wire.next()).toEqual(answer);
    expect(events.map((e) => e.name)).toEqual(['GEN_KEY_CSR']);
    expect(endpoint.stats).toMatchObject({ executions: 1, replays: 1, framesIgnored: 1 });
    expect(device.state.staged.identityKey).toEqual(key);
  });

  it('drops a request in flight on reset: no answer, no event', async () => {
    const { endpoint, wire, events, completed } = await rig({}, { commandMs: 30 });
    endpoint.receive(hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 256 })));
    expect(endpoint.isBusy).toBe(true);
    endpoint.reset();
    expect(endpoint.isBusy).toBe(false);
    // Started after INFO with the same work time, so INFO would have answered first.
    const done = completed();
    endpoint.receive(hostFrame('GET_CONFIG', 2, encodeRequest('GET_CONFIG', { bank: 0 })));
    expect((await done).name).toBe('GET_CONFIG');
    expect((await wire.next()).requestId).toBe(2);
    expect(wire.unread).toBe(0);
    expect(events.map((e) => e.name)).toEqual(['GET_CONFIG']);
  });
});

describe('frame filtering', () => {
  it('ignores frames sent in the device direction', async () => {
    const { endpoint, wire } = await rig();
    endpoint.receive(
      hostFrame('INFO', 1, encodeRequest('INFO', { hostMaxFrame: 256 }), { fromDevice: true }),
    );
    endpoint.receive(hostFrame('GET_CONFIG', 2, encodeRequest('GET_CONFIG', { bank: 0 })));
    expect((await wire.next()).requestId).toBe(2);
    expect(endpoint.stats.framesIgnored).toBe(1);
  });
});

function errorCode(frame: Frame): number {
  expect(frame.error).toBe(true);
  return decodeErrorBody(frame.data).code;
}
