import { describe, expect, it } from 'vitest';
import { clockNote } from './clockNote.js';
import { testLine } from './testing/lineTestKit.js';

const MIN = 60_000;

describe('clockNote', () => {
  it('says nothing of a difference the Date header and the network explain', () => {
    expect(clockNote(undefined)).toBeUndefined();
    expect(clockNote(90_000)).toBeUndefined();
    expect(clockNote(-90_000)).toBeUndefined();
  });

  it('says which way the station clock is off, by how much, and what that breaks', () => {
    expect(clockNote(-12 * MIN)).toMatch(
      /^This station's clock is 12 min ahead of DPS's\. Certificates it issues are not valid until/,
    );
    expect(clockNote(45 * MIN)).toMatch(
      /^This station's clock is 45 min behind DPS's\. Sync keeps working \(it signs by DPS's clock\), but every time this station records/,
    );
    // The DPS client signs by DPS's clock (dpsServiceClient.token.test.ts), its first call
    // too once refused: however far behind, the note must not say DPS refuses the sync.
    expect(clockNote(3 * 60 * MIN)).not.toMatch(/refuses|stops/);
    expect(clockNote(-5 * 60 * MIN)).toMatch(/clock is 5 h ahead of DPS's/);
  });
});

describe('the line with a station clock off from DPS', () => {
  it('shows the note in its status while DPS says so, and drops it once the clock is right', async () => {
    let offset: number | undefined;
    const line = await testLine({ dpsClockOffsetMs: () => offset });
    expect(line.status().notes).toEqual([]);
    offset = -20 * MIN;
    expect(line.status().notes).toEqual([expect.stringMatching(/20 min ahead of DPS's/)]);
    offset = 1_000;
    expect(line.status().notes).toEqual([]);
  });
});
