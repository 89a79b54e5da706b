import { describe, expect, it } from 'vitest';
import { productProfileSchema } from '../profiles/productProfile.js';
import { chooseProfile } from './productionStation.js';

const named = (name: string) =>
  productProfileSchema.parse({
    name,
    models: ['LS-DEMO-1'],
    dps: { idScope: '0ne0000AB12' },
    attestation: { mode: 'x509-device-key' },
  });

describe('choosing the product of a line (--product)', () => {
  it('takes a name typed in another letter case when only one product has it', () => {
    const profiles = [named('Sensor v3'), named('Gateway')];
    expect(chooseProfile(profiles, 'sensor v3').name).toBe('Sensor v3');
    expect(chooseProfile(profiles, 'Gateway').name).toBe('Gateway');
  });

  it('refuses a name no product has as PROFILE_NOT_FOUND, listing the names', () => {
    // Not STATION_NOT_CONFIGURED: that sends the supervisor to check the data folder.
    expect(() => chooseProfile([named('Sensor v3'), named('Gateway')], 'Sensor v4')).toThrow(
      expect.objectContaining({
        code: 'PROFILE_NOT_FOUND',
        message: 'No product profile is named "Sensor v4". The file has: "Sensor v3", "Gateway".',
      }),
    );
  });

  it('refuses no choice among several products as PROFILE_NOT_CHOSEN, naming them', () => {
    expect(() => chooseProfile([named('Sensor v3'), named('Gateway')])).toThrow(
      expect.objectContaining({
        code: 'PROFILE_NOT_CHOSEN',
        message: expect.stringMatching(
          /^The profiles file holds 2 products \("Sensor v3", "Gateway"\); choose one with --product NAME/,
        ) as string,
      }),
    );
    expect(chooseProfile([named('Gateway')]).name).toBe('Gateway');
  });
});
