import { decode, encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { MessageFormatError } from './cborSchema.js';
import {
  decodeErrorBody,
  decodeRequest,
  decodeResponse,
  encodeErrorBody,
  encodeRequest,
  encodeResponse,
} from './messages.js';
import { sampleInfo as info } from './testMessages.js';

function expectFormatError(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MessageFormatError);
    expect((err as MessageFormatError).field).toBe(field);
    return;
  }
  throw new Error(`expected MessageFormatError on ${field}`);
}

describe('messages', () => {
  it('round-trips INFO, configuration and binary payloads', () => {
    expect(decodeResponse('INFO', encodeResponse('INFO', info))).toEqual(info);
    const config = {
      globalEndpoint: 'global.azure-devices-provisioning.net',
      idScope: '0ne00000001',
      registrationId: 'ls-demo-1-sn000123',
      extra: { site: 'line-3' },
    };
    expect(decodeRequest('SET_CONFIG', encodeRequest('SET_CONFIG', config))).toEqual(config);
    const chain = [new Uint8Array([0x30, 1, 2]), new Uint8Array([0x30, 3])];
    const decoded = decodeRequest('PUT_CERT_CHAIN', encodeRequest('PUT_CERT_CHAIN', { chain }));
    expect(decoded.chain.map((c) => [...c])).toEqual(chain.map((c) => [...c]));
  });

  it('encodes compactly: integer keys, raw byte strings', () => {
    const csr = new Uint8Array(300);
    // map(1) + key + bstr header (3 bytes for 300) + payload
    expect(encodeResponse('GEN_KEY_CSR', { csr }).length).toBe(1 + 1 + 3 + 300);
    expect(encodeResponse('SET_CONFIG', {}).length).toBe(1);
  });

  it('names the field that is missing, mistyped or out of bounds', () => {
    expectFormatError(() => decodeRequest('INFO', encode(new Map())), 'hostMaxFrame');
    expectFormatError(() => decodeRequest('GET_CONFIG', encode(new Map([[1, 'x']]))), 'bank');
    expectFormatError(
      () =>
        decodeRequest(
          'SIGN_CHALLENGE',
          encode(
            new Map<number, unknown>([
              [1, new Uint8Array(8)],
              [2, 0],
              [3, 1],
            ]),
          ),
        ),
      'nonce',
    );
    expectFormatError(
      () => encodeRequest('SET_CONFIG', { registrationId: 'x'.repeat(129) }),
      'registrationId',
    );
    const badInfo = encodeResponse('INFO', info);
    expectFormatError(() => decodeResponse('GEN_KEY_CSR', badInfo), 'csr');
    expectFormatError(
      () =>
        decodeResponse(
          'INFO',
          encode(new Map<number, unknown>([...decodeMapOf(badInfo), [7, new Map([[1, 'P-256']])]])),
        ),
      'features.keygenCurves',
    );
  });

  it('refuses garbage, non-maps and duplicate keys as (message)', () => {
    expectFormatError(() => decodeRequest('INFO', new Uint8Array([0xff, 0x00])), '(message)');
    expectFormatError(() => decodeRequest('INFO', encode([1, 2])), '(message)');
    // {1: 256, 1: 256} written by hand: cborg will not encode duplicates.
    expectFormatError(
      () =>
        decodeRequest(
          'INFO',
          new Uint8Array([0xa2, 0x01, 0x19, 0x01, 0x00, 0x01, 0x19, 0x01, 0x00]),
        ),
      '(message)',
    );
  });

  it('ignores unknown keys, for forward compatibility', () => {
    const withExtra = encode(
      new Map<number, unknown>([
        [1, 4096],
        [42, 'future'],
      ]),
    );
    expect(decodeRequest('INFO', withExtra)).toEqual({ hostMaxFrame: 4096 });
  });

  it('round-trips error bodies', () => {
    expect(decodeErrorBody(encodeErrorBody({ code: 8, detail: 'leaf key differs' }))).toEqual({
      code: 8,
      detail: 'leaf key differs',
    });
  });
});

/** Re-decodes a message as a raw map so one field can be swapped for a malformed value. */
function decodeMapOf(bytes: Uint8Array): Map<number, unknown> {
  return decode(bytes, { useMaps: true }) as Map<number, unknown>;
}
