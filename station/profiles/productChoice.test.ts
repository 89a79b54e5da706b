import { describe, expect, it } from 'vitest';
import { chooseProductByName } from './productChoice.js';

const profiles = [{ name: 'Sensor v3' }, { name: 'Gateway' }, { name: 'GATEWAY' }];

describe('--product NAME', () => {
  it('picks the exact name first', () => {
    expect(chooseProductByName(profiles, 'Sensor v3')).toEqual({
      profile: profiles[0],
      caseDiffers: false,
    });
    expect(chooseProductByName(profiles, 'GATEWAY')).toEqual({
      profile: profiles[2],
      caseDiffers: false,
    });
  });

  it('picks the one profile a name differing only in letter case can mean', () => {
    expect(chooseProductByName(profiles, 'sensor V3')).toEqual({
      profile: profiles[0],
      caseDiffers: true,
    });
  });

  it('ignores spaces around the name, as the profiles file check does for duplicates', () => {
    // profileCrossChecks.ts refuses " Gateway" beside "Gateway": --product must fold the same way.
    expect(chooseProductByName(profiles, ' sensor v3 ')).toEqual({
      profile: profiles[0],
      caseDiffers: true,
    });
  });

  it('names the profiles when the case leaves it open, and all of them when none match', () => {
    expect(chooseProductByName(profiles, 'gateway')).toEqual({
      problem:
        'No product profile is named exactly "gateway", and "Gateway", "GATEWAY" differ from it only in letter case: give one of them exactly.',
    });
    expect(chooseProductByName(profiles, 'Sensor v4')).toEqual({
      problem:
        'No product profile is named "Sensor v4". The file has: "Sensor v3", "Gateway", "GATEWAY".',
    });
  });
});
