import { describe, expect, it } from 'vitest';
import { runDecoderFuzz } from '../bench/decoderFuzz.js';

describe('frame decoder under fuzzing', () => {
  // CI runs a slice; `npm run fuzz -- --inputs 1000000` runs the full property run on demand.
  it('never crashes and never accepts a frame that was not sent intact', () => {
    const report = runDecoderFuzz(20_000, 20261122);
    expect(report.crashes).toBe(0);
    expect(report.falseAccepts).toBe(0);
    expect(report.framesAccepted).toBe(report.framesExpected);
    expect(report.rejected.crc + report.rejected.cobs).toBeGreaterThan(0);
  });
});
