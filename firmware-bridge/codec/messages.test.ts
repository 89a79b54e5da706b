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

  // Every limit of PROTOCOL.md §4.1, at its maximum: a device built from the document alone
  // is accepted, one byte more is refused.
  it('accepts an INFO answer at the documented maximum lengths, and not a byte more', () => {
    const max = {
      ...info,
      serialNumber: 'S'.repeat(64),
      model: 'M'.repeat(64),
      hardwareRevision: 'H'.repeat(64),
      firmwareVersion: `2.14.0-rc.3+build.20261207.abcdef12${'.'.repeat(29)}`,
      features: { ...info.features, keygenCurves: Array.from({ length: 8 }, () => 'C'.repeat(16)) },
    };
    // A cborg encoding, as a device's own CBOR library would write it.
    const wireOf = (v: typeof max) =>
      encode(
        new Map<number, unknown>([
          [1, v.protocolVersion],
          [2, v.maxFrame],
          [3, v.serialNumber],
          [4, v.model],
          [5, v.hardwareRevision],
          [6, v.firmwareVersion],
          [
            7,
            new Map<number, unknown>([
              [1, v.features.keygenCurves],
              [2, v.features.tpm],
              [3, v.features.symmetricKeySlot],
              [4, v.features.keyInjection],
            ]),
          ],
          [8, v.identityState],
          [9, v.maxMessage],
        ]),
      );
    const wire = wireOf(max);
    expect(decodeResponse('INFO', wire)).toEqual(max);
    const over: [string, unknown][] = [
      ['serialNumber', { ...max, serialNumber: 'S'.repeat(65) }],
      ['model', { ...max, model: 'M'.repeat(65) }],
      ['hardwareRevision', { ...max, hardwareRevision: 'H'.repeat(65) }],
      ['firmwareVersion', { ...max, firmwareVersion: 'F'.repeat(65) }],
      [
        'features.keygenCurves',
        { ...max, features: { ...max.features, keygenCurves: Array(9).fill('P-256') } },
      ],
      [
        'features.keygenCurves[0]',
        { ...max, features: { ...max.features, keygenCurves: ['C'.repeat(17)] } },
      ],
    ];
    for (const [field, value] of over) {
      expectFormatError(() => encodeResponse('INFO', value as typeof max), field);
      // The host refuses the same answer from a device that wrote it anyway.
      expectFormatError(() => decodeResponse('INFO', wireOf(value as typeof max)), field);
    }
  });

  // Assigned to a plain object, `__proto__` sets the prototype and makes no entry: the key would
  // vanish between the wire and the caller. It is refused both ways instead (PROTOCOL.md §4.3).
  it('refuses the extra key __proto__ on both sides instead of dropping it', () => {
    const extra = JSON.parse('{"__proto__":"evil","a":"b"}') as Record<string, string>;
    expect(Object.keys(extra)).toEqual(['__proto__', 'a']);
    expectFormatError(() => encodeRequest('SET_CONFIG', { extra }), 'extra.__proto__');
    const text = (s: string) => [0x60 + s.length, ...new TextEncoder().encode(s)];
    // {4: {"__proto__": "evil", "a": "b"}} written by hand, as a device could send it.
    const wire = Uint8Array.from([
      0xa1,
      0x04,
      0xa2,
      ...text('__proto__'),
      ...text('evil'),
      ...text('a'),
      ...text('b'),
    ]);
    expectFormatError(() => decodeRequest('SET_CONFIG', wire), 'extra.__proto__');
    expectFormatError(() => decodeResponse('GET_CONFIG', wire), 'extra.__proto__');
    // Any other key, even one named after an Object.prototype member, still round-trips.
    const plain = { extra: { constructor: 'c', toString: 't', a: 'b' } };
    expect(decodeRequest('SET_CONFIG', encodeRequest('SET_CONFIG', plain))).toEqual(plain);
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
