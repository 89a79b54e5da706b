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
      /^This station's clock is 45 min behind DPS's\. Sync keeps working while it is less than an hour behind; from an hour behind, DPS refuses the station's first sign-in after it starts/,
    );
    // The DPS client signs by DPS's clock once it knows it (dpsServiceClient.token.test.ts):
    // 45 min behind refuses nothing, so the note must not say DPS will refuse at an hour.
    expect(clockNote(45 * MIN)).not.toMatch(/refuses its sign-in once it is an hour behind/);
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
