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

  it('refuses a name no product has, listing the names', () => {
    expect(() => chooseProfile([named('Sensor v3')], 'Sensor v4')).toThrow(
      expect.objectContaining({
        code: 'STATION_NOT_CONFIGURED',
        message: expect.stringContaining('"Sensor v3"') as string,
      }),
    );
  });
});
