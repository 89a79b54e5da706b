import { describe, expect, it } from 'vitest';
import type { Frame } from '../codec/frame.js';
import { encodeResponse } from '../codec/messages.js';
import { DeviceErrorCode } from '../codec/wireErrors.js';
import { errorFromFrame } from './messageTransfer.js';
import { reply, setup } from './testing/scriptedDevice.js';

/** An error body written by hand: `{1: code, 2: detail}` with the detail's raw UTF-8 bytes. */
function errorBody(code: number, detail: number[]): Uint8Array {
  const head = detail.length < 24 ? [0x60 + detail.length] : [0x78, detail.length];
  return Uint8Array.from([0xa2, 0x01, code, 0x02, ...head, ...detail]);
}

function errorFrame(data: Uint8Array): Frame {
  return { type: 0x11, requestId: 1, fromDevice: true, error: true, data };
}

const x65 = Array.from({ length: 65 }, () => 0x78);

describe('errorFromFrame', () => {
  // PROTOCOL.md §7 bounds the detail at 64 bytes, but it is only for the log: a device that
  // overruns it must still be heard as BUSY, or the §6.1 busy retry never runs.
  it('keeps the code of an error whose detail is over 64 bytes', () => {
    const err = errorFromFrame(errorFrame(errorBody(DeviceErrorCode.BUSY, x65)));
    expect(err.code).toBe('DEVICE_BUSY');
    expect(err.detail).toBe(`${'x'.repeat(64)}…`);
  });

  it('keeps the code of an error whose detail is not valid UTF-8', () => {
    const err = errorFromFrame(errorFrame(errorBody(DeviceErrorCode.KEY_MISMATCH, [0xff])));
    expect(err.code).toBe('DEVICE_KEY_MISMATCH');
    expect(err.detail).toBe('\ufffd');
  });

  it('still refuses an error body without a code', () => {
    const err = errorFromFrame(errorFrame(Uint8Array.from([0xa1, 0x02, 0x61, 0x78])));
    expect(err.code).toBe('WIRE_BAD_RESPONSE');
  });
});

describe('a BUSY answer with an over-long detail', () => {
  it('is retried as BUSY until the device is free', async () => {
    let answers = 0;
    const { session, device } = await setup((frame, d) => {
      if (answers++ === 0) {
        d.send({ ...reply(frame, errorBody(DeviceErrorCode.BUSY, x65)), error: true });
      } else {
        d.send(reply(frame, encodeResponse('GET_CONFIG', { idScope: '0ne1' })));
      }
    });
    // A timeout far above the exchange, so no re-send after silence muddles the request ids on
    // a loaded machine.
    const config = await session.request('GET_CONFIG', { bank: 0 }, { timeoutMs: 5000 });
    expect(config).toEqual({ idScope: '0ne1' });
    // The repeat is a new request (§6.1), not a re-send of the refused one.
    expect(device.frames.map((f) => f.requestId)).toEqual([1, 2]);
  });
});
