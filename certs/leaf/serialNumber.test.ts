import { describe, expect, it } from 'vitest';
import { integerFromBytes } from '../der/derWriter.js';
import { newSerialNumber } from './serialNumber.js';

describe('newSerialNumber', () => {
  it('is 16 bytes, positive, first byte non-zero, so the DER INTEGER is always 02 10 + 16 bytes', () => {
    const seen = new Set<string>();
    const firstBytes = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const serial = newSerialNumber();
      expect(serial.length).toBe(16);
      expect(serial[0]).toBeGreaterThan(0);
      expect(serial[0]).toBeLessThan(0x80);
      const der = integerFromBytes(serial);
      expect(der.length).toBe(18);
      expect(der.subarray(0, 2)).toEqual(Buffer.of(0x02, 0x10));
      seen.add(Buffer.from(serial).toString('hex'));
      firstBytes.add(serial[0]!);
    }
    expect(seen.size).toBe(20_000);
    // 20,000 draws over 127 values: every first byte shows up unless the top bits are stuck.
    expect(firstBytes.size).toBe(127);
  });

  it('hands out independent copies', () => {
    const a = newSerialNumber();
    const copy = Buffer.from(a);
    newSerialNumber();
    expect(Buffer.from(a)).toEqual(copy);
  });
});
